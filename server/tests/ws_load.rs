//! Many sessions at once: nothing is lost or crossed between them.

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_sessions_each_get_their_own_answers() {
    const SESSIONS: u64 = 1_000;
    let server = std::sync::Arc::new(TestServer::start(|_| {}).await);
    let mut tasks = Vec::new();
    for i in 0..SESSIONS {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = server.connect(&format!("crowd-{i}")).await;
            ping(&mut client, i).await;
            let own = format!("// file of session {i}\nfn main() {{}}\n");
            send(
                &mut client,
                json!({"type": "chat", "payload": {
                    "message": format!("write a function for session {i}"),
                    "context": {"active_file": {
                        "id": "main", "name": "main.rs", "language": "rust", "content": own
                    }}
                }}),
            )
            .await;
            let reply = recv_reply(&mut client).await;
            assert_eq!(reply["type"], "chat_response");
            let text = reply["payload"]["message"].as_str().unwrap();
            // The reply quotes the message it answers: it must be this session's own.
            assert!(
                text.contains(&format!("> write a function for session {i}\n")),
                "{text}"
            );
            let diff = recv(&mut client).await;
            assert_eq!(diff["payload"]["original"], own.as_str());
            client
        }));
    }
    let mut clients = Vec::new();
    for task in tasks {
        clients.push(task.await.expect("session task"));
    }
    assert_eq!(clients.len() as u64, SESSIONS);
    std::sync::Arc::into_inner(server)
        .expect("no other handles")
        .shutdown()
        .await;
}
