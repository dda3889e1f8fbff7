//! The AXE server: Leptos pages plus the session WebSocket at `/api/axe/ws/{session_id}`.
//!
//! # Layout
//! The modules form layers; each imports only from layers below it. Top to bottom:
//!
//! 1. this file: [`router`] and [`serve`] — wiring only; [`housekeeping`], the background
//!    chores; [`ownership`], which sessions this node serves in a cluster; and [`seed`], the
//!    `server seed` tool.
//! 2. [`ws`] (the gate in front of a session's socket; one connection's reader and writer) and
//!    [`http`] (origin check and CORS, tokens and ownership, the sessions API, the export,
//!    health checks): transport and the trust boundary.
//! 3. [`state`]: [`AppState`], what every handler shares.
//! 4. [`commands`]: what each client message does to a session — validate, refuse, decide.
//! 5. [`reply`]: one model reply — stream it, end it, conclude it into the session.
//! 6. [`session`]: the per-session transaction (lock, de-duplicate, change, commit, number,
//!    fan out) over the cached state; the one home of the ordering guarantee.
//! 7. [`registry`]: each session's live connection; [`outbound`], a connection's outgoing queue.
//! 8. [`site`] (the widget's built files, hashed and compressed), [`metrics`] (what the server
//!    counts and times), [`telemetry`] (widgets' events and their anonymization), [`llm`]
//!    (talking to models), [`codeblocks`] (a reply's code blocks as file changes),
//!    [`diff`] (hunks with `similar`), [`merge`] (three-way merges with `diffy`), [`auth`]
//!    (checking and minting tokens), [`throttle`] (token buckets), [`cluster`] (leases and
//!    requests between nodes over Redis): helpers.
//! 9. [`storage`]: rows in, rows out, over SQLite or PostgreSQL; knows no session or model
//!    types.
//! 10. [`config`], [`error`], [`shutdown`]: settings, the error type, the shutdown flag;
//!     [`memory`], giving freed heap pages back to the system.
//!
//! `config` and `error` name types of the layers they configure (`llm`'s settings, `storage`'s
//! error), which is why they are listed last but imported from above.

// Leptos view types nest deeply in release builds (no type erasure there).
#![recursion_limit = "256"]

pub mod auth;
pub mod cluster;
pub mod codeblocks;
pub mod commands;
pub mod config;
pub mod diff;
pub mod error;
pub mod housekeeping;
pub mod http;
pub mod llm;
pub mod memory;
pub mod merge;
pub mod metrics;
pub mod outbound;
pub mod ownership;
pub mod registry;
pub mod reply;
pub mod seed;
pub mod session;
pub mod shutdown;
pub mod site;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod throttle;
pub mod ws;

use app::{shell, App};
use axum::{
    middleware,
    routing::{any, get, post},
    Router,
};
use config::Config;
use error::{Error, Result};
use leptos::config::{get_configuration, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};
use state::AppState;
use std::{future::Future, sync::Arc, time::Duration};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// The whole application: health checks, the session WebSocket, Leptos pages and static files.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let site = app::SiteInfo {
        model: state.replies.model().to_owned(),
        storage: state.config.storage_description(),
    };
    // Everything under /api/axe/ sits behind the origin check.
    let api = Router::new()
        .route("/api/axe/ws/{session_id}", any(ws::upgrade::handle))
        .route("/api/axe/sessions", post(http::sessions::create))
        .route("/api/axe/events", post(http::events::accept))
        .route("/api/axe/sessions/{session_id}", get(http::sessions::check))
        .route(
            "/api/axe/sessions/{session_id}/token",
            post(http::sessions::refresh_token),
        )
        .route(
            "/api/axe/sessions/{session_id}/export",
            get(http::export::session_export),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            http::origin::guard,
        ));
    Router::new()
        .route("/axe/embed.js", get(http::assets::loader))
        .route("/axe/build.json", get(http::assets::build))
        .route("/axe/b/{build}/{*path}", get(http::assets::file))
        .route("/metrics", get(http::metrics::exposition))
        .route("/dashboard", get(http::dashboard::page))
        .route("/healthz", get(http::health::alive))
        .route("/readyz", get(http::health::ready))
        .merge(api)
        .leptos_routes_with_context(
            &state,
            routes,
            move || leptos::context::provide_context(site.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
}

/// Reads the configuration from the environment, sets up logging, and serves until SIGINT or
/// SIGTERM.
pub async fn run_from_env() -> Result<()> {
    let leptos_options = get_configuration(None)
        .map_err(|e| Error::Leptos(e.to_string()))?
        .leptos_options;
    let config = Config::from_lookup(leptos_options.site_addr, |name| std::env::var(name).ok())?;
    let filter = EnvFilter::try_new(&config.log_filter).map_err(|e| Error::InvalidSetting {
        name: "AXE_LOG",
        value: config.log_filter.clone(),
        reason: e.to_string(),
    })?;
    tracing_subscriber::fmt().with_env_filter(filter).init();

    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| Error::Bind {
            addr: config.addr,
            source,
        })?;
    tracing::info!("listening on http://{}", config.addr);
    serve(listener, config, leptos_options, shutdown::signal()).await
}

/// Serves on `listener` until `stop` resolves, then shuts down gracefully: new upgrades are
/// refused, every open socket is sent Close 1001, and this returns once they have all ended (or
/// the grace period ran out).
pub async fn serve(
    listener: TcpListener,
    config: Config,
    leptos_options: LeptosOptions,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    serve_watched(listener, config, leptos_options, stop, |_| {}).await
}

/// [`serve`], handing `watch` the application's state once it is built — for tests that look
/// inside (how many sessions are cached, say) while the real server runs.
pub async fn serve_watched(
    listener: TcpListener,
    config: Config,
    leptos_options: LeptosOptions,
    stop: impl Future<Output = ()> + Send + 'static,
    watch: impl FnOnce(&AppState),
) -> Result<()> {
    let (trigger, listener_flag) = shutdown::channel();
    let grace = config.shutdown_grace;
    let provider: Arc<dyn llm::Provider> = match &config.llm {
        Some(llm_config) => {
            tracing::info!(url = %llm_config.base_url, model = %llm_config.model, "answering with a model server");
            Arc::new(
                llm::openai::OpenAiProvider::new(llm_config.clone())
                    .map_err(|e| Error::Llm(e.to_string()))?,
            )
        }
        None => {
            tracing::info!("no AXE_LLM_BASE_URL: answering with the offline demo responder");
            Arc::new(llm::offline::OfflineProvider {
                piece_delay: config.offline_delay,
            })
        }
    };
    let storage = storage::Storage::open(&config.database_url)
        .await?
        .keeping_versions(config.file_versions_kept);
    tracing::info!(backend = ?storage.backend(), "storage ready");
    let cluster = match &config.cluster.redis_url {
        Some(url) => {
            let node = &config.observe.node_id;
            let cluster =
                cluster::Cluster::connect(url, node, config.cluster.lease, Duration::from_secs(30))
                    .await
                    .map_err(|e| Error::Cluster(e.to_string()))?;
            tracing::info!(node = %node, lease = ?config.cluster.lease, "cluster mode: sessions are leased through redis");
            Some(cluster)
        }
        None => None,
    };
    // In a cluster other nodes' replies are streaming now: each session's are recovered by the
    // node that takes it over (see `ownership`).
    if cluster.is_none() {
        let interrupted = storage.recover_interrupted(provider.model()).await?;
        if interrupted > 0 {
            tracing::warn!(
                interrupted,
                "replies cut off by the last stop are stored as failed"
            );
        }
    }
    let auth = match config.auth.mode {
        auth::AuthMode::Anonymous => {
            let secret = auth::secret::load(config.auth.secret.as_deref(), &storage)
                .await
                .map_err(|e| Error::Auth(e.to_string()))?;
            auth::Authenticator::anonymous(&secret, config.auth.leeway)
                .map_err(|e| Error::Auth(e.to_string()))?
        }
        auth::AuthMode::Jwt => {
            let settings = config.auth.jwt.as_ref().ok_or_else(|| {
                Error::Auth("jwt mode needs AXE_JWT_SECRET or AXE_JWT_PUBLIC_KEY_FILE".into())
            })?;
            auth::Authenticator::jwt(settings).map_err(|e| Error::InvalidSetting {
                name: "AXE_JWT_PUBLIC_KEY_FILE",
                value: String::new(),
                reason: e.to_string(),
            })?
        }
    };
    tracing::info!(auth = config.auth.mode.as_str(), origins = ?config.allowed_origins, "trust boundary ready");
    let metrics = Arc::new(metrics::Metrics::new());
    let mut sessions = session::SessionStore::new(
        storage.clone(),
        registry::Registry::default(),
        config.max_message_bytes,
        metrics.clone(),
    );
    if let Some(cluster) = &cluster {
        sessions = sessions.fenced(cluster.fences().clone());
    }
    let replies = reply::Replies::new(
        sessions.clone(),
        provider,
        config.limits.llm_concurrency,
        listener_flag.clone(),
    );
    // Compressing the wasm takes a moment: off the runtime's threads.
    let site_root = leptos_options.site_root.to_string();
    let site = tokio::task::spawn_blocking(move || site::SiteFiles::load(site_root))
        .await
        .map_err(|e| Error::Leptos(format!("reading the widget's files failed: {e}")))?;
    let telemetry_salt = storage
        .server_secret(
            "telemetry_salt",
            &auth::random::hex(32).map_err(|e| Error::Auth(e.to_string()))?,
        )
        .await
        .map_err(Error::Storage)?
        .into_bytes();
    let state = AppState::new(state::Shared {
        storage: storage.clone(),
        telemetry_salt,
        metrics,
        site: Arc::new(site),
        leptos_options,
        limiters: state::Limiters::new(&config),
        config: Arc::new(config),
        auth,
        sessions,
        replies: replies.clone(),
        shutdown: listener_flag,
        cluster,
        draining: Arc::default(),
    });
    watch(&state);
    housekeeping::spawn(state.clone());
    ownership::spawn(state.clone());
    let draining = state.draining.clone();
    let drain = state.config.cluster.drain;
    let app = router(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            stop.await;
            if !drain.is_zero() {
                // /readyz answers 503 from now: the balancer sends new connections elsewhere
                // while these still work.
                tracing::info!(?drain, "draining");
                draining.store(true, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(drain).await;
            }
            tracing::info!("shutting down: closing every connection with 1001");
            trigger.trigger();
        })
        .await?;
    // axum's graceful shutdown does not wait for upgraded sockets; they close themselves on
    // the flag, each giving its connection slot back as it ends.
    if tokio::time::timeout(grace, state.limiters.all_closed())
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace period ended with connections still open");
    }
    // Replies end on the same flag and store themselves as interrupted; the database must stay
    // open until they have.
    let unfinished = replies.drain(grace).await;
    if unfinished > 0 {
        tracing::warn!(
            unfinished,
            "shutdown grace period ended with replies still being stored"
        );
    }
    // Every reply is stored under this node's fences: the leases can go, and other nodes take
    // the sessions at once instead of after the leases expire.
    ownership::release_all(&state).await;
    storage.close().await;
    tracing::info!("stopped");
    Ok(())
}
