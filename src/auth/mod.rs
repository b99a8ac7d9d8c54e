//! Who is calling: passwords, session tokens, the caller extractor and what each role may see.

pub mod caller;
pub mod jwt;
pub mod notes_key;
pub mod oidc;
pub mod one_on_one;
pub mod password;
pub mod private_notes;
pub mod scope;
pub mod session;

pub use caller::{Admin, Caller};
pub use scope::Scope;
