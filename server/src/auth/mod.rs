//! Who is asking: bearer tokens (JWTs) checked with a maintained library, minted by AXE itself
//! in anonymous mode or by the host application in jwt mode.
//!
//! # Layout
//! - this file: [`Authenticator`] — verify a token to its subject and expiry; mint one
//!   (anonymous mode only).
//! - [`bearer`]: where a request carries its token (the `Authorization` header, or for a
//!   browser's WebSocket the `axe.bearer.<token>` subprotocol entry; never the query string).
//! - [`secret`]: the anonymous mode's signing secret, kept so tokens survive restarts.
//! - [`random`]: unguessable ids from the operating system's CSPRNG.

pub mod bearer;
pub mod random;
pub mod secret;

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a token AXE mints (anonymous mode) is valid.
pub const ANONYMOUS_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The issuer AXE writes into the tokens it mints, and requires of them.
const ANONYMOUS_ISSUER: &str = "axe";

/// Longest token accepted, in bytes: real ones are a few hundred; this bounds the work an
/// attacker can make a signature check do.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Who mints tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// AXE itself: `POST /api/axe/sessions` hands out a session and a token for a fresh
    /// anonymous subject.
    Anonymous,
    /// The host application: AXE only verifies.
    Jwt,
}

impl AuthMode {
    /// The mode's name in `AXE_AUTH`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::Jwt => "jwt",
        }
    }
}

/// How jwt mode verifies signatures.
#[derive(Debug, Clone)]
pub enum JwtKey {
    /// HS256 with a shared secret (`AXE_JWT_SECRET`).
    Secret(String),
    /// RS256, ES256 or EdDSA with a PEM public key (`AXE_JWT_PUBLIC_KEY_FILE`), by its type.
    PublicKeyPem(Vec<u8>),
}

/// Jwt mode's settings.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// The verification key.
    pub key: JwtKey,
    /// Required `aud`, when set.
    pub audience: Option<String>,
    /// Required `iss`, when set.
    pub issuer: Option<String>,
    /// Clock skew allowed on `exp` (and `nbf`).
    pub leeway: Duration,
}

/// What a token proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The subject (`sub`): who owns what this token opens.
    pub subject: String,
    /// When the token stops being valid, in Unix seconds (`exp`).
    pub expires_at: u64,
}

/// A token AXE minted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Minted {
    /// The JWT.
    pub token: String,
    /// Its `exp`, in Unix seconds.
    pub expires_at: u64,
}

/// Why a token was refused; the text is what the `401` says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token at all.
    #[error("a bearer token is required")]
    Missing,
    /// Not a JWT, or too long.
    #[error("the token is malformed")]
    Malformed,
    /// The signature does not match.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// Past its `exp` (plus the leeway).
    #[error("the token has expired")]
    Expired,
    /// A required claim is missing or wrong (`sub`, `exp`, `aud`, `iss`, algorithm).
    #[error("the token is not valid here: {0}")]
    Invalid(String),
}

/// Why the authenticator could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

/// The claims AXE reads (and, in anonymous mode, writes).
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    // Optional here so a token without them is refused as such, not as unreadable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exp: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
}

/// Checks tokens, and in anonymous mode mints them. Cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    mode: AuthMode,
    decoding: DecodingKey,
    validation: Validation,
    /// Anonymous mode only.
    encoding: Option<EncodingKey>,
    leeway: Duration,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys.
        f.debug_struct("Authenticator")
            .field("mode", &self.mode)
            .field("algorithms", &self.validation.algorithms)
            .finish()
    }
}

/// Now, in Unix seconds.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Authenticator {
    /// Anonymous mode: HS256 with AXE's own `secret`, issuer `axe`.
    pub fn anonymous(secret: &[u8], leeway: Duration) -> Result<Self, SetupError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.set_issuer(&[ANONYMOUS_ISSUER]);
        validation.leeway = leeway.as_secs();
        let key_error =
            |e: jsonwebtoken::errors::Error| SetupError(format!("unusable secret: {e}"));
        Ok(Self {
            mode: AuthMode::Anonymous,
            decoding: DecodingKey::from_secret(secret).map_err(key_error)?,
            validation,
            encoding: Some(EncodingKey::from_secret(secret).map_err(key_error)?),
            leeway,
        })
    }

    /// Jwt mode: verify the host application's tokens with `settings`.
    pub fn jwt(settings: &JwtSettings) -> Result<Self, SetupError> {
        let (decoding, algorithm) = match &settings.key {
            JwtKey::Secret(secret) => (
                DecodingKey::from_secret(secret.as_bytes())
                    .map_err(|e| SetupError(format!("unusable AXE_JWT_SECRET: {e}")))?,
                Algorithm::HS256,
            ),
            JwtKey::PublicKeyPem(pem) => public_key(pem)?,
        };
        let mut validation = Validation::new(algorithm);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = settings.leeway.as_secs();
        match &settings.audience {
            Some(audience) => validation.set_audience(&[audience]),
            // Without a configured audience a token's `aud` is not checked (not refused).
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &settings.issuer {
            validation.set_issuer(&[issuer]);
        }
        Ok(Self {
            mode: AuthMode::Jwt,
            decoding,
            validation,
            encoding: None,
            leeway: settings.leeway,
        })
    }

    /// Which mode this is.
    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// The clock skew allowed on expiry.
    pub fn leeway(&self) -> Duration {
        self.leeway
    }

    /// Checks `token`: signature, algorithm, `exp` (with leeway), `sub`, and `aud`/`iss` when
    /// required.
    pub fn verify(&self, token: &str) -> Result<Verified, AuthError> {
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Malformed);
        }
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|error| {
            use jsonwebtoken::errors::ErrorKind;
            match error.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::InvalidToken
                | ErrorKind::Base64(_)
                | ErrorKind::Json(_)
                | ErrorKind::Utf8(_) => AuthError::Malformed,
                ErrorKind::MissingRequiredClaim(claim) => {
                    AuthError::Invalid(format!("the claim {claim:?} is missing"))
                }
                ErrorKind::InvalidAudience => AuthError::Invalid("wrong audience".into()),
                ErrorKind::InvalidIssuer => AuthError::Invalid("wrong issuer".into()),
                ErrorKind::InvalidAlgorithm => AuthError::Invalid("wrong algorithm".into()),
                ErrorKind::ImmatureSignature => AuthError::Invalid("not valid yet".into()),
                _ => AuthError::Malformed,
            }
        })?;
        let missing = |claim: &str| AuthError::Invalid(format!("the claim {claim:?} is missing"));
        let subject = data
            .claims
            .sub
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("sub"))?;
        let expires_at = data.claims.exp.ok_or_else(|| missing("exp"))?;
        Ok(Verified {
            subject,
            expires_at,
        })
    }

    /// A token for `subject`, valid for [`ANONYMOUS_TOKEN_LIFETIME`]; `None` in jwt mode,
    /// where the host application mints tokens.
    pub fn mint(&self, subject: &str) -> Option<Minted> {
        let key = self.encoding.as_ref()?;
        let now = now_secs();
        let expires_at = now + ANONYMOUS_TOKEN_LIFETIME.as_secs();
        let claims = Claims {
            sub: Some(subject.to_owned()),
            exp: Some(expires_at),
            iat: Some(now),
            iss: Some(ANONYMOUS_ISSUER.into()),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, key).ok()?;
        Some(Minted { token, expires_at })
    }
}

/// The decoding key and algorithm of a PEM public key: RSA → RS256, EC P-256 → ES256,
/// Ed25519 → EdDSA.
fn public_key(pem: &[u8]) -> Result<(DecodingKey, Algorithm), SetupError> {
    if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        return Ok((key, Algorithm::RS256));
    }
    if let Ok(key) = DecodingKey::from_ec_pem(pem) {
        return Ok((key, Algorithm::ES256));
    }
    if let Ok(key) = DecodingKey::from_ed_pem(pem) {
        return Ok((key, Algorithm::EdDSA));
    }
    Err(SetupError(
        "expected a PEM public key (RSA, EC P-256 or Ed25519)".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anonymous() -> Authenticator {
        Authenticator::anonymous(b"0123456789abcdef0123456789abcdef", Duration::from_secs(30))
            .unwrap()
    }

    fn sign(claims: serde_json::Value, secret: &[u8]) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn a_minted_token_verifies_to_its_subject_for_thirty_days() {
        let auth = anonymous();
        let minted = auth.mint("anon-1").unwrap();
        let verified = auth.verify(&minted.token).unwrap();
        assert_eq!(verified.subject, "anon-1");
        let lifetime = minted.expires_at - now_secs();
        assert!(
            lifetime > ANONYMOUS_TOKEN_LIFETIME.as_secs() - 5,
            "{lifetime}"
        );
    }

    #[test]
    fn bad_tokens_are_refused_for_their_reason() {
        let auth = anonymous();
        let secret = b"0123456789abcdef0123456789abcdef";
        assert_eq!(auth.verify(""), Err(AuthError::Malformed));
        assert_eq!(auth.verify("not.a.jwt"), Err(AuthError::Malformed));
        assert_eq!(
            auth.verify(&"a".repeat(MAX_TOKEN_BYTES + 1)),
            Err(AuthError::Malformed)
        );
        let now = now_secs();
        let forged = sign(
            serde_json::json!({"sub": "x", "exp": now + 60, "iss": "axe"}),
            b"another secret entirely!!!!!!!!",
        );
        assert_eq!(auth.verify(&forged), Err(AuthError::BadSignature));
        let expired = sign(
            serde_json::json!({"sub": "x", "exp": now - 120, "iss": "axe"}),
            secret,
        );
        assert_eq!(auth.verify(&expired), Err(AuthError::Expired));
        let within_leeway = sign(
            serde_json::json!({"sub": "x", "exp": now - 10, "iss": "axe"}),
            secret,
        );
        assert!(auth.verify(&within_leeway).is_ok());
        let no_sub = sign(serde_json::json!({"exp": now + 60, "iss": "axe"}), secret);
        assert!(matches!(auth.verify(&no_sub), Err(AuthError::Invalid(_))));
        let foreign = sign(
            serde_json::json!({"sub": "x", "exp": now + 60, "iss": "elsewhere"}),
            secret,
        );
        assert!(matches!(auth.verify(&foreign), Err(AuthError::Invalid(_))));
        // "alg": "none" is never accepted.
        let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        let body = "eyJzdWIiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5LCJpc3MiOiJheGUifQ";
        assert!(auth.verify(&format!("{header}.{body}.")).is_err());
    }

    #[test]
    fn jwt_mode_checks_audience_and_issuer_when_set_and_mints_nothing() {
        let settings = JwtSettings {
            key: JwtKey::Secret("host secret of enough length!!".into()),
            audience: Some("axe".into()),
            issuer: Some("https://host.example".into()),
            leeway: Duration::from_secs(30),
        };
        let auth = Authenticator::jwt(&settings).unwrap();
        assert!(auth.mint("x").is_none());
        let secret = b"host secret of enough length!!";
        let now = now_secs();
        let good = sign(
            serde_json::json!({"sub": "u-7", "exp": now + 60, "aud": "axe", "iss": "https://host.example"}),
            secret,
        );
        assert_eq!(auth.verify(&good).unwrap().subject, "u-7");
        let wrong_aud = sign(
            serde_json::json!({"sub": "u-7", "exp": now + 60, "aud": "other", "iss": "https://host.example"}),
            secret,
        );
        assert!(matches!(
            auth.verify(&wrong_aud),
            Err(AuthError::Invalid(_))
        ));
        let no_exp = sign(
            serde_json::json!({"sub": "u-7", "aud": "axe", "iss": "https://host.example"}),
            secret,
        );
        assert!(matches!(auth.verify(&no_exp), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn a_pem_that_is_no_public_key_is_a_setup_error() {
        let settings = JwtSettings {
            key: JwtKey::PublicKeyPem(
                b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n".to_vec(),
            ),
            audience: None,
            issuer: None,
            leeway: Duration::from_secs(30),
        };
        assert!(Authenticator::jwt(&settings).is_err());
    }
}
