//! Starts a real OpenID provider for the single sign-on tests: tests/oidc/provider.mjs,
//! the `oidc-provider` package from npm under Node.js, on a loopback port.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const CLIENT_ID: &str = "pulse-tests";
pub const CLIENT_SECRET: &str = "a client secret of the tests only";

pub struct Provider {
    child: Child,
    pub issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// Makes the provider's next ID token bad in one way (`key`, `aud`,
    /// `exp`, `nonce`: tests/oidc/provider.mjs).
    pub async fn tamper(&self, mode: &str) {
        let res = reqwest::Client::new()
            .post(format!("{}/__tamper?mode={mode}", self.issuer))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
    }

    /// The address the provider last sent a browser back to, code and state included.
    pub async fn last_callback(&self) -> String {
        reqwest::get(format!("{}/__last_callback", self.issuer))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `target/oidc/node_modules`, where `.ci/run` installs the provider; installed
/// here when missing, so the tests never pass without a provider to talk to.
fn node_modules() -> PathBuf {
    // One install at a time: the tests run in parallel.
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let prefix = root.join("target").join("oidc");
    let modules = prefix.join("node_modules");
    if !modules.join("oidc-provider").exists() {
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg("oidc-provider@9")
            .status()
            .expect("npm runs (the single sign-on tests need Node.js and npm)");
        assert!(status.success(), "npm could not install oidc-provider");
    }
    modules
}

/// The provider's issuer is `http://127.0.0.1:<port>`; `redirect_uri` is the
/// one address it sends browsers back to.
pub fn start(port: u16, redirect_uri: &str) -> Provider {
    // Once in a loaded full run node started and never printed its first
    // line, and the test waited for it for half an hour: a start that says
    // nothing within a minute is stopped and made again, once.
    for _ in 0..2 {
        if let Some(provider) = try_start(port, redirect_uri) {
            return provider;
        }
    }
    panic!("the OpenID provider did not start within a minute, twice");
}

fn try_start(port: u16, redirect_uri: &str) -> Option<Provider> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc/provider.mjs");
    let mut child = Command::new("node")
        .arg(script)
        .arg(node_modules())
        .arg(port.to_string())
        .args([CLIENT_ID, CLIENT_SECRET, redirect_uri])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = String::new();
        let _ = stdout.read_line(&mut first);
        let _ = tx.send(first);
        // Keep reading: a closed pipe would kill the provider at its next write.
        std::io::copy(&mut stdout, &mut std::io::sink())
    });
    let Ok(first) = rx.recv_timeout(std::time::Duration::from_secs(60)) else {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    };
    let issuer = first
        .trim()
        .strip_prefix("issuer ")
        .unwrap_or_else(|| panic!("the provider did not start: {first:?}"))
        .to_string();
    Some(Provider { child, issuer })
}

/// Settings that point Pulse at a provider that will listen on `port`.
pub fn settings(port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("PULSE_OIDC_ISSUER", format!("http://127.0.0.1:{port}")),
        ("PULSE_OIDC_CLIENT_ID", CLIENT_ID.into()),
        ("PULSE_OIDC_CLIENT_SECRET", CLIENT_SECRET.into()),
        ("PULSE_OIDC_NAME", "Acme ID".into()),
    ]
}
