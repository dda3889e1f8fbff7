//! `tagged_messages!`: declares a message enum sent as `{"type": …, "payload": {…}}` together
//! with a decoder that reads the payload straight into its variant.
//!
//! Why not `#[derive(Deserialize)]` with `#[serde(tag = "type", content = "payload")]`: serde's
//! adjacently tagged decoder must accept the payload before the tag, so it carries a second
//! decoder for every variant that goes through its buffered `Content` tree. Decoding server
//! frames this way instead took the browser's main wasm from 276.6 to 257.4 KiB (gzip). Here the frame's envelope is read
//! first (`frame.rs`), and `from_payload` dispatches on the `type` to a plain struct per variant:
//! one decoder each, no buffering, and the variants are still declared once.

/// Declares `pub enum $name` (deriving `Serialize` as an adjacently tagged enum) from a list of
/// struct variants and a list of newtype variants, each with its wire `type`, plus:
/// - `$name::TYPES`, every wire `type`;
/// - `$name::type_name(&self)`, the message's wire `type`;
/// - `$name::from_payload(kind, payload_json)`, `Ok(None)` for a `type` not in the list.
macro_rules! tagged_messages {
    (
        $(#[$enum_meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident = $wire:literal {
                    $( $(#[$field_meta:meta])* $field:ident : $field_type:ty ),* $(,)?
                }
            ),* ;
            $(
                $(#[$newtype_meta:meta])*
                $newtype:ident = $newtype_wire:literal ($inner:ty)
            ),* $(,)?
        }
    ) => {
        $(#[$enum_meta])*
        #[derive(Serialize)]
        #[serde(tag = "type", content = "payload")]
        pub enum $name {
            $(
                $(#[$variant_meta])*
                #[serde(rename = $wire)]
                $variant { $( $(#[$field_meta])* $field: $field_type ),* },
            )*
            $(
                $(#[$newtype_meta])*
                #[serde(rename = $newtype_wire)]
                $newtype($inner),
            )*
        }

        /// One plain struct per struct variant, with the variant's fields and their serde
        /// attributes: what a payload is decoded into before it becomes the variant.
        mod payloads {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[doc = concat!("The payload of `", $wire, "`.")]
                #[derive(serde::Deserialize)]
                pub(super) struct $variant {
                    $( $(#[$field_meta])* pub(super) $field: $field_type ),*
                }
            )*
        }

        impl $name {
            /// Every `type` on the wire.
            pub const TYPES: &'static [&'static str] = &[$($wire,)* $($newtype_wire,)*];

            /// The message's `type` on the wire.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $( Self::$variant { .. } => $wire, )*
                    $( Self::$newtype(_) => $newtype_wire, )*
                }
            }

            /// Reads `payload` (a JSON object's text) as the message of type `kind`; `Ok(None)`
            /// when no message has that `type`.
            pub fn from_payload(
                kind: &str,
                payload: &str,
            ) -> Result<Option<Self>, serde_json::Error> {
                Ok(Some(match kind {
                    $(
                        $wire => {
                            let payloads::$variant { $($field),* } = serde_json::from_str(payload)?;
                            Self::$variant { $($field),* }
                        }
                    )*
                    $( $newtype_wire => Self::$newtype(serde_json::from_str(payload)?), )*
                    _ => return Ok(None),
                }))
            }
        }
    };
}
