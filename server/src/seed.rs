//! `server seed`: fills a session with a long conversation, as if a person had used it for
//! months — for the long-session browser test and the open-session benchmark, which show that
//! opening a session costs the same whatever its length.
//!
//! Usage: `server seed --database-url URL --session ID --owner SUB [--turns 5000] [--diffs 500]`
//!
//! Every `turns / diffs`-th reply proposes a diff to `main.rs` (a function more) that was
//! applied, so the file has `diffs` versions and the history their frames. It writes through
//! the server's own storage (one transaction), so the rows are exactly what the server writes;
//! the session keeps any history it had and the new turns follow it.

use crate::{
    diff,
    storage::{owners::Claim, Batch, Change, Storage},
};
use protocol::{
    encode_server_frame, ChatMetadata, DiffOutcome, DiffProposal, FinishReason, MessageStatus,
    ServerMessage, SessionId,
};
use std::collections::HashMap;

struct Args {
    database_url: String,
    session: SessionId,
    owner: String,
    turns: u64,
    diffs: u64,
}

/// The seeded file's id.
const FILE_ID: &str = "main";

fn parse_args(raw: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut flags: HashMap<String, String> = HashMap::new();
    let mut raw = raw;
    while let Some(flag) = raw.next() {
        let value = raw.next().ok_or(format!("{flag} needs a value"))?;
        flags.insert(flag, value);
    }
    let get = |name: &str| {
        flags
            .get(name)
            .cloned()
            .ok_or(format!("{name} is required"))
    };
    Ok(Args {
        database_url: get("--database-url")?,
        session: SessionId::parse(&get("--session")?).map_err(|e| format!("--session: {e}"))?,
        owner: get("--owner")?,
        turns: flags
            .get("--turns")
            .map(|t| t.parse().map_err(|_| "--turns must be a number".to_owned()))
            .transpose()?
            .unwrap_or(5_000),
        diffs: 0,
    })
    .and_then(|mut args| {
        args.diffs = flags
            .get("--diffs")
            .map(|t| t.parse().map_err(|_| "--diffs must be a number".to_owned()))
            .transpose()?
            .unwrap_or(args.turns / 10)
            .min(args.turns);
        Ok(args)
    })
}

async fn run(args: Args) -> Result<(), String> {
    let storage = Storage::open(&args.database_url)
        .await
        .map_err(|e| e.to_string())?;
    match storage
        .claim_session(&args.session, &args.owner, usize::MAX)
        .await
        .map_err(|e| e.to_string())?
    {
        Claim::Owned => {}
        other => return Err(format!("the session is not {}'s: {other:?}", args.owner)),
    }
    let rows = storage
        .load_session(&args.session, 0)
        .await
        .map_err(|e| e.to_string())?;
    let mut seq = rows.last_seq;
    let mut next_message = rows.next_message;
    let mut next_diff = rows.next_diff;
    let mut file = rows
        .files
        .iter()
        .find(|f| f.file_id == FILE_ID)
        .map_or(("fn main() {}\n".to_owned(), 0), |f| {
            (f.content.clone(), f.version)
        });
    let mut changes = Vec::new();
    let mut events = Vec::new();
    let every = args.turns.checked_div(args.diffs).unwrap_or(u64::MAX);
    if args.diffs > 0 && file.1 == 0 {
        file.1 = 1;
        changes.push(save_file(&file, "seed".into()));
    }
    for turn in 0..args.turns {
        next_message += 1;
        let client_id = format!("seed-{}-{turn}", args.session);
        let reply_id = format!("m-{next_message}");
        let question = format!("Question {turn}: how would you write step {turn} of the parser?");
        let answer = format!(
            "Step {turn} reads one token and decides what follows:\n\n```rust\nfn step_{turn}(input: &str) -> usize {{\n    input.len() % {}\n}}\n```\n\nThat is all step {turn} needs.",
            turn + 2
        );
        changes.push(Change::UserMessage {
            message_id: client_id.clone(),
            content: question.clone(),
            position: next_message,
        });
        changes.push(Change::StartReply {
            message_id: reply_id.clone(),
            position: next_message,
        });
        changes.push(Change::FinishReply {
            message_id: reply_id.clone(),
            content: answer.clone(),
            status: MessageStatus::Complete,
            model: "seed".into(),
            finish_reason: FinishReason::Stop,
        });
        let user = ServerMessage::UserMessage {
            id: client_id,
            message: question,
        };
        let proposes = args.diffs > 0 && (turn + 1) % every == 0 && turn / every < args.diffs;
        let reply = ServerMessage::ChatResponse {
            message: answer,
            metadata: ChatMetadata {
                message_id: reply_id,
                model: "seed".into(),
                finish_reason: FinishReason::Stop,
                diff_count: u32::from(proposes),
                usage: None,
            },
        };
        let mut turn_events = vec![user, reply];
        if proposes {
            next_diff += 1;
            let modified = format!(
                "{}\nfn step_{turn}(input: &str) -> usize {{\n    input.len() % {}\n}}\n",
                file.0,
                turn + 2
            );
            let proposal = DiffProposal {
                diff_id: format!("d-{next_diff}"),
                file_id: FILE_ID.into(),
                file_name: "main.rs".into(),
                language: "rust".into(),
                hunks: diff::hunks(&file.0, &modified),
                original: std::mem::replace(&mut file.0, modified),
                modified: file.0.clone(),
                warning: None,
            };
            file.1 += 1;
            changes.push(Change::ProposeDiff(Box::new(proposal.clone())));
            changes.push(Change::ResolveDiff {
                diff_id: proposal.diff_id.clone(),
                outcome: DiffOutcome::Applied,
                accepted_hunks: None,
            });
            changes.push(save_file(&file, proposal.diff_id.clone()));
            turn_events.push(ServerMessage::FileUpdate {
                file_id: FILE_ID.into(),
                content: file.0.clone(),
                version: Some(file.1),
            });
            turn_events.push(ServerMessage::DiffResolved {
                diff_id: proposal.diff_id.clone(),
                outcome: DiffOutcome::Applied,
            });
            turn_events.insert(2, ServerMessage::Diff(Box::new(proposal)));
        }
        for event in turn_events {
            seq += 1;
            events.push((
                seq,
                event.type_name(),
                encode_server_frame(Some(seq), &event),
            ));
        }
    }
    let batch = Batch {
        client: None,
        changes,
        events,
        last_seq: seq,
        next_message,
        next_diff,
        next_conflict: rows.next_conflict,
        fence: None,
    };
    storage
        .commit(&args.session, &batch)
        .await
        .map_err(|e| e.to_string())?;
    storage.close().await;
    println!(
        "seeded {} turns and {} applied diffs into {} (history now ends at seq {seq})",
        args.turns, args.diffs, args.session
    );
    Ok(())
}

/// The seeded file at `(content, version)`, caused by `cause`.
fn save_file(file: &(String, i64), cause: String) -> Change {
    Change::SaveFile {
        file_id: FILE_ID.into(),
        name: "main.rs".into(),
        language: "rust".into(),
        content: file.0.clone(),
        version: file.1,
        cause,
    }
}

/// Runs `server seed` with the arguments after `seed`.
pub async fn main(args: impl Iterator<Item = String>) -> Result<(), String> {
    run(parse_args(args)?).await
}
