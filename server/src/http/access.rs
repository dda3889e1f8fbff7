//! Who may do what: the caller's token checked ([`Caller`], 401 otherwise), the session's
//! ownership checked or claimed ([`claim_session`], 403 otherwise), and the client's address
//! as rate limits key it.

use super::error::ApiError;
use crate::{
    auth::{bearer, Verified},
    state::AppState,
    storage::owners::Claim,
};
use axum::{extract::FromRequestParts, http::request::Parts};
use protocol::SessionId;
use std::net::IpAddr;

/// A request with a valid token: who is asking, and until when.
#[derive(Debug, Clone)]
pub struct Caller(pub Verified);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = bearer::token(&parts.headers) else {
            return Err(ApiError::unauthorized(
                "a bearer token is required: an Authorization: Bearer header, or for a browser's \
                 WebSocket the subprotocols axe.v1 and axe.bearer.<token>",
            ));
        };
        state
            .auth
            .verify(token)
            .map(Caller)
            .map_err(|error| ApiError::unauthorized(error.to_string()))
    }
}

/// Makes sure `caller` owns `session`: claims it if it is new or has no owner yet; refuses with
/// 403 if another subject owns it, or if it is new and the caller owns too many already.
pub async fn claim_session(
    state: &AppState,
    session: &SessionId,
    caller: &Caller,
) -> Result<(), ApiError> {
    let claim = state
        .sessions
        .claim(
            session,
            &caller.0.subject,
            state.config.limits.max_sessions_per_subject,
        )
        .await
        .map_err(|error| {
            tracing::error!(%error, "cannot check a session's owner");
            ApiError::internal("checking the session's owner")
        })?;
    match claim {
        Claim::Owned => Ok(()),
        Claim::OwnedByOther => Err(ApiError::forbidden(
            "not_owner",
            "this conversation belongs to another account",
        )),
        Claim::LimitReached => Err(ApiError::forbidden(
            "too_many_sessions",
            format!(
                "an account may own at most {} conversations",
                state.config.limits.max_sessions_per_subject
            ),
        )),
    }
}

/// The client address rate limits count by: IPv6 clients by their /64, which one household or
/// machine usually holds whole, so rotating addresses inside it does not escape the limit.
pub fn rate_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(rate_key(a), rate_key(b));
        assert_ne!(rate_key(a), rate_key(c));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(rate_key(mapped), "10.0.0.1".parse::<IpAddr>().unwrap());
    }
}
