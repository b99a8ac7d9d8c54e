//! End-to-end tests in headless Chromium through chromedriver (WebDriver):
//! what HR, a lead and an employee do in a real browser, at desktop and phone
//! widths, with screenshots of each main page in target/screenshots/ and an
//! axe-core check. Without chromedriver each test says so in one line and passes.

mod conversation;
#[path = "../api/drivers_seed.rs"]
mod drivers_seed;
#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[path = "../api/oidc_provider.rs"]
mod oidc_provider;
mod team_search;
mod turnover_pages;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use helpers::{spawn_app, Engine, TestApp, ADMIN_EMAIL, PASSWORD};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (375, 812);

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn chromedriver() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("chromedriver"))
        .find(|p| p.is_file())
}

/// A browser session, or None (with the one line saying why) when there is no chromedriver.
async fn browser() -> Option<(Driver, Client)> {
    let Some(bin) = chromedriver() else {
        eprintln!("skipped: chromedriver not found (apt-get install chromium chromium-driver)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile =
        std::env::temp_dir().join(format!("pulse-chromium-{port}-{}", std::process::id()));
    let driver = Driver {
        child,
        port,
        profile,
    };
    // Generous: on a loaded machine chromedriver can take many seconds to listen.
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", driver.port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut args = vec![
        "--headless".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--hide-scrollbars".into(),
        format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
        format!("--user-data-dir={}", driver.profile.display()),
    ];
    args.push("--lang=en-GB".into());
    let mut options = json!({ "args": args });
    if Path::new("/usr/bin/chromium").exists() {
        options["binary"] = json!("/usr/bin/chromium");
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    let client = ClientBuilder::native()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("chromium answers through chromedriver");
    Some((driver, client))
}

async fn css(c: &Client, selector: &str) -> Element {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("no {selector}: {e}"))
}

/// Date inputs take keys in the browser's locale order; set them directly.
async fn set_date(c: &Client, selector: &str, date: &str) {
    css(c, selector).await;
    c.execute(
        "document.querySelector(arguments[0]).value = arguments[1]; return true;",
        vec![json!(selector), json!(date)],
    )
    .await
    .unwrap();
}

async fn fill(c: &Client, selector: &str, text: &str) {
    let el = css(c, selector).await;
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

async fn click(c: &Client, selector: &str) {
    css(c, selector).await.click().await.unwrap();
}

/// Clicks something that loads a new page, and waits for that page.
async fn submit(c: &Client, selector: &str) {
    c.execute("window.__pulse_old_page = true; return true;", vec![])
        .await
        .unwrap();
    click(c, selector).await;
    for _ in 0..200 {
        let fresh = c
            .execute(
                "return window.__pulse_old_page === undefined && document.readyState === 'complete'",
                vec![],
            )
            .await
            .map(|v| v == Value::Bool(true))
            .unwrap_or(false);
        if fresh {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("clicking {selector} loaded no page");
}

async fn body_text(c: &Client) -> String {
    css(c, "body").await.text().await.unwrap()
}

async fn sign_in(c: &Client, app: &TestApp, email: &str, password: &str) {
    c.goto(&app.url("/login")).await.unwrap();
    fill(c, "#email", email).await;
    fill(c, "#password", password).await;
    submit(c, "main button[type=submit]").await;
    css(c, "nav.site-nav").await;
}

async fn set_size(c: &Client, (w, h): (u32, u32)) {
    c.set_window_size(w, h).await.unwrap();
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A whole-page PNG: the window grows to the page's height for the shot.
async fn screenshot(c: &Client, name: &str, size: (u32, u32)) {
    set_size(c, size).await;
    // The window's height includes what is not page; add it back.
    let height = c
        .execute(
            "return document.documentElement.scrollHeight + (window.outerHeight - window.innerHeight)",
            vec![],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(u64::from(size.1)) as u32;
    set_size(c, (size.0, height.clamp(size.1, 8000))).await;
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
    set_size(c, size).await;
}

/// Nothing sticks out sideways on a phone: wide tables scroll inside their box.
async fn fits_the_width(c: &Client, what: &str) {
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    if overflow > 0 {
        let culprits = c
            .execute(
                r#"return [...document.querySelectorAll('main *')]
                     .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                     .filter(e => ![...e.children].some(k => k.getBoundingClientRect().right > window.innerWidth + 1))
                     .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 40));"#,
                vec![],
            )
            .await
            .unwrap();
        panic!("{what} is {overflow}px wider than a phone: {culprits}");
    }
}

/// axe-core, when it was installed with npm (see .ci/run); None otherwise.
fn axe_source() -> Option<String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/axe/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(path).ok()
}

/// Fails on serious or critical axe-core violations of the current page.
async fn accessible(c: &Client, axe: Option<&str>, what: &str) {
    let Some(axe) = axe else { return };
    c.execute(&format!("{axe}\nreturn true;"), vec![])
        .await
        .unwrap();
    let found = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { resultTypes: ['violations'] }).then(r => done(
                 r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                   .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')) }))));"#,
            vec![],
        )
        .await
        .unwrap();
    let list = found.as_array().cloned().unwrap_or_default();
    assert!(
        list.is_empty(),
        "axe-core on {what}: {}",
        Value::Array(list)
    );
}

/// The `/s/<token>` link of an email, decoded.
/// The answering link of an invitation; None for other emails (a lead's digest).
fn answer_link(raw: &str) -> Option<String> {
    let mail = mailparse::parse_mail(raw.as_bytes()).unwrap();
    let text = mail
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/plain")
        .map(|p| p.get_body().unwrap())
        .unwrap_or_else(|| mail.get_body().unwrap());
    let start = text.find("/s/")?;
    let token: String = text[start + 3..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    Some(format!("/s/{token}"))
}

async fn app_with_admin() -> (TestApp, String) {
    let app = spawn_app(Engine::Sqlite).await.unwrap();
    let token = app.admin_token().await;
    (app, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hr_builds_a_survey_sends_it_and_reads_the_results() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let (app, token) = app_with_admin().await;
    let team = app.team(&token, json!({"name": "Support"})).await;
    for i in 0..5 {
        app.employee(&token, json!({"email": format!("e{i}@example.com"), "name": format!("Employee {i}"), "hired_on": "2024-01-01", "team_id": team})).await;
    }
    sign_in(&c, &app, ADMIN_EMAIL, PASSWORD).await;

    // Build a survey: three questions offered, one more added, a choice among options.
    c.goto(&app.url("/surveys/new")).await.unwrap();
    fill(&c, "#title", "Team pulse").await;
    submit(&c, "button[value=add]").await;
    css(&c, "#q3_kind")
        .await
        .select_by_value("choice")
        .await
        .unwrap();
    fill(&c, "#q3_prompt", "Where do you work best?").await;
    fill(&c, "#q3_options", "Office\nHome\nBoth").await;
    fill(&c, "#timezone", "Europe/Paris").await;
    submit(&c, "button[value=preview]:not(.visually-hidden)").await;
    let text = body_text(&c).await;
    assert!(text.contains("The next five rounds go out"), "{text}");
    submit(&c, "button[value=create]").await;
    let text = body_text(&c).await;
    assert!(text.contains("Survey created."), "{text}");
    assert!(text.contains("Where do you work best?"));

    // Send a round now: six invited (five employees and HR).
    submit(&c, "form[action$='/rounds'] button").await;
    let text = body_text(&c).await;
    assert!(
        text.contains("Round sent: 6 people invited by email."),
        "{text}"
    );
    app.tick(&chrono::Utc::now().to_rfc3339()).await;
    let links: Vec<String> = app.emails().iter().filter_map(|e| answer_link(e)).collect();
    assert_eq!(links.len(), 6);

    // One employee answers on a phone.
    set_size(&c, PHONE).await;
    c.goto(&app.url(&links[0])).await.unwrap();
    fits_the_width(&c, "the answering form").await;
    screenshot(&c, "answer-phone", PHONE).await;
    click(&c, "fieldset:nth-of-type(1) input[value='9']").await;
    click(&c, "fieldset:nth-of-type(2) input[value='4']").await;
    click(&c, "fieldset:nth-of-type(4) input[value='Home']").await;
    fill(&c, "textarea", "More quiet rooms, please.").await;
    submit(&c, "main button[type=submit]").await;
    assert!(body_text(&c).await.contains("Thank you"));
    // The link takes one answer.
    c.goto(&app.url(&links[0])).await.unwrap();
    assert!(body_text(&c).await.contains("This link no longer works"));

    // While the round is open nothing is shown, not even how many answered (one is
    // under the threshold), so no one can watch an answer arrive.
    set_size(&c, DESKTOP).await;
    c.goto(&app.url("/surveys")).await.unwrap();
    submit(&c, "td a[href^='/rounds/']").await;
    let text = body_text(&c).await;
    assert!(
        text.contains("Results appear when the round closes"),
        "{text}"
    );
    assert!(!text.contains("1 of 6") && !text.contains("More quiet rooms"));
    screenshot(&c, "round-open-desktop", DESKTOP).await;

    // Four more answers: participation shows, figures still wait for the close.
    for link in &links[1..5] {
        c.goto(&app.url(link)).await.unwrap();
        click(&c, "fieldset:nth-of-type(1) input[value='10']").await;
        click(&c, "fieldset:nth-of-type(2) input[value='5']").await;
        click(&c, "fieldset:nth-of-type(4) input[value='Office']").await;
        submit(&c, "main button[type=submit]").await;
        assert!(body_text(&c).await.contains("Thank you"));
    }
    c.goto(&app.url("/surveys")).await.unwrap();
    submit(&c, "td a[href^='/rounds/']").await;
    let text = body_text(&c).await;
    assert!(text.contains("5 of 6 invited have answered"), "{text}");
    assert!(!text.contains("+100"));
    // HR closes the round: the figures and the comments (five people) appear.
    submit(&c, "form[action$='/close'] button").await;
    let text = body_text(&c).await;
    assert!(text.contains("Round closed"), "{text}");
    assert!(!text.contains("Results hidden."), "{text}");
    assert!(text.contains("eNPS"));
    assert!(text.contains("+100"), "five promoters: {text}");
    assert!(text.contains("More quiet rooms, please."));
    screenshot(&c, "round-desktop", DESKTOP).await;
    screenshot(&c, "round-phone", PHONE).await;
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hr_manages_people_and_teams() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let (app, _) = app_with_admin().await;
    sign_in(&c, &app, ADMIN_EMAIL, PASSWORD).await;

    // A team whose name looks like markup shows as text.
    c.goto(&app.url("/teams")).await.unwrap();
    fill(&c, "#name", "<script>alert('x')</script>").await;
    submit(&c, "form[action='/teams'] button[type=submit]").await;
    let text = body_text(&c).await;
    assert!(text.contains("<script>alert('x')</script>"), "{text}");
    fill(&c, "#name", "Support").await;
    submit(&c, "form[action='/teams'] button[type=submit]").await;
    assert!(body_text(&c).await.contains("Team Support was added."));

    // Add a person: a mistake is told beside the field and the input kept.
    c.goto(&app.url("/people/new")).await.unwrap();
    fill(&c, "#name", "Ana Lima").await;
    fill(&c, "#email", "ana@").await;
    submit(&c, "main form button[type=submit]").await;
    let error = css(&c, "#email-error").await.text().await.unwrap();
    assert!(!error.is_empty());
    assert_eq!(
        css(&c, "#name")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("Ana Lima")
    );
    fill(&c, "#email", "ana@example.com").await;
    set_date(&c, "#hired_on", "2024-01-15").await;
    submit(&c, "main form button[type=submit]").await;
    assert!(body_text(&c).await.contains("Ana Lima was added."));

    // She leaves: last day, reason, regretted.
    set_date(&c, "#left_on", "2025-06-30").await;
    css(&c, "#leave_reason")
        .await
        .select_by_value("voluntary")
        .await
        .unwrap();
    click(&c, "#regretted").await;
    submit(&c, "form[action$='/departure'] button[type=submit]").await;
    let text = body_text(&c).await;
    assert!(text.contains("Recorded Ana Lima's departure."), "{text}");
    assert!(text.contains("regretted leaver"));

    // A CSV upload with bad lines lists each, and imports nothing.
    c.goto(&app.url("/people/import")).await.unwrap();
    fill(&c, "#text", "email,name,team,hired_on\nbo@example.com,Bo,Support,2024-01-01\nbad-email,Cy,,2024-01-01\ndi@example.com,Di,,03/01/2024").await;
    submit(&c, "main form button[type=submit]").await;
    let text = body_text(&c).await;
    assert!(
        text.contains("Nothing was imported: 2 lines need fixing."),
        "{text}"
    );
    let rows = c.find_all(Locator::Css("table tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 2);
    screenshot(&c, "people-import-errors-desktop", DESKTOP).await;
    fill(
        &c,
        "#text",
        "email,name,team,hired_on\nbo@example.com,Bo,Support,2024-01-01",
    )
    .await;
    submit(&c, "main form button[type=submit]").await;
    assert!(body_text(&c).await.contains("Import done: 1 created"));

    c.goto(&app.url("/people?q=bo")).await.unwrap();
    assert!(body_text(&c).await.contains("bo@example.com"));
    c.close().await.unwrap();
}

/// The main pages with a demo company, at desktop and phone widths, for
/// each role: screenshots, no sideways overflow on a phone, and axe-core.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_pages_look_finished_for_every_role() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let axe = axe_source();
    if axe.is_none() {
        eprintln!("axe-core not installed (npm install --prefix target/axe axe-core): accessibility check skipped");
    }
    let app = spawn_app(Engine::Sqlite).await.unwrap();
    let hash = pulse::auth::password::hash(PASSWORD);
    let mut conn = app.conn();
    pulse::demo::run(&mut conn, 150, 30, &hash, 7).unwrap();
    use diesel::prelude::*;
    use pulse::db::schema::employees;
    let (lead_id, lead): (i32, String) = employees::table
        .filter(employees::role.eq("lead"))
        .filter(employees::left_on.is_null())
        .select((employees::id, employees::email))
        .order(employees::id)
        .first(&mut conn)
        .unwrap();
    let round: i32 = pulse::db::schema::rounds::table
        .select(pulse::db::schema::rounds::id)
        .order(pulse::db::schema::rounds::id.desc())
        .first(&mut conn)
        .unwrap();
    let member = "member-for-screens@example.com";
    let token = app.login("hr@demo.pulse.example", PASSWORD).await;
    let member_id = app.employee(&token, json!({"email": member, "name": "Max Member", "hired_on": "2024-01-01", "password": PASSWORD})).await;
    // A 1:1 between the lead and the member.
    let starts_on = (chrono::Utc::now() + chrono::Duration::days(3))
        .date_naive()
        .to_string();
    let res = app
        .post("/api/v1/one-on-ones", Some(&token), json!({"manager_id": lead_id, "report_id": member_id, "cadence": "biweekly", "starts_on": starts_on, "time": "10:00", "timezone": "Europe/Paris", "duration_minutes": 30}))
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());

    let round_page = format!("/rounds/{round}");
    let pages: Vec<(&str, &str)> = vec![
        ("dashboard-hr", "/"),
        ("people", "/people"),
        ("person", "/people/3"),
        ("people-import", "/people/import"),
        ("teams", "/teams"),
        ("surveys", "/surveys"),
        ("survey-new", "/surveys/new"),
        ("survey", "/surveys/1"),
        ("round", &round_page),
        ("privacy", "/privacy"),
        ("report-enps", "/reports/enps"),
        ("report-turnover", "/reports/turnover"),
        ("audit", "/audit"),
        ("webhooks", "/webhooks"),
        ("scim-tokens", "/scim-tokens"),
    ];
    sign_in(&c, &app, "hr@demo.pulse.example", PASSWORD).await;
    for (name, path) in &pages {
        c.goto(&app.url(path)).await.unwrap();
        css(&c, "main h1").await;
        let text = body_text(&c).await;
        assert!(!text.contains("Something went wrong"), "{path}: {text}");
        screenshot(&c, &format!("{name}-desktop"), DESKTOP).await;
        accessible(&c, axe.as_deref(), path).await;
        screenshot(&c, &format!("{name}-phone"), PHONE).await;
        set_size(&c, PHONE).await;
        fits_the_width(&c, path).await;
        set_size(&c, DESKTOP).await;
    }

    // The lead: their dashboard and reports, and a 403 page elsewhere.
    c.delete_all_cookies().await.unwrap();
    sign_in(&c, &app, &lead, PASSWORD).await;
    let nav = css(&c, "nav.site-nav").await.text().await.unwrap();
    assert!(nav.contains("Reports") && !nav.contains("People"), "{nav}");
    screenshot(&c, "dashboard-lead-desktop", DESKTOP).await;
    accessible(&c, axe.as_deref(), "the lead's dashboard").await;
    screenshot(&c, "dashboard-lead-phone", PHONE).await;
    c.goto(&app.url("/reports/enps")).await.unwrap();
    screenshot(&c, "report-enps-lead-desktop", DESKTOP).await;
    c.goto(&app.url("/people")).await.unwrap();
    assert!(body_text(&c)
        .await
        .contains("You do not have access to this page"));
    screenshot(&c, "forbidden-desktop", DESKTOP).await;

    // A member: their dashboard.
    c.delete_all_cookies().await.unwrap();
    sign_in(&c, &app, member, PASSWORD).await;
    let text = body_text(&c).await;
    assert!(
        text.contains("Your 1:1s") && text.contains("Next:"),
        "{text}"
    );
    screenshot(&c, "dashboard-member-phone", PHONE).await;
    accessible(&c, axe.as_deref(), "the member's dashboard").await;
    // Their next 1:1: add to the agenda through the page (the form carries the session's token).
    submit(&c, "a[href^='/meetings/']").await;
    fill(&c, "#agenda-text", "Training budget").await;
    submit(&c, "form:has(#agenda-text) button[type=submit]").await;
    assert!(body_text(&c).await.contains("Training budget"));
    screenshot(&c, "meeting-desktop", DESKTOP).await;
    screenshot(&c, "meeting-phone", PHONE).await;
    c.goto(&app.url("/one-on-ones")).await.unwrap();
    screenshot(&c, "one-on-ones-phone", PHONE).await;

    // Signed out: the sign-in page.
    c.delete_all_cookies().await.unwrap();
    c.goto(&app.url("/")).await.unwrap();
    css(&c, "#email").await;
    screenshot(&c, "login-phone", PHONE).await;
    accessible(&c, axe.as_deref(), "/login").await;
    c.close().await.unwrap();
}

/// The calendar parts of the emails to `to`: (METHOD, UID, SEQUENCE).
fn invites_to(app: &TestApp, to: &str) -> Vec<(String, String, u32)> {
    fn find(part: &mailparse::ParsedMail) -> Option<String> {
        if part.ctype.mimetype == "text/calendar" {
            return part.get_body().ok();
        }
        part.subparts.iter().find_map(find)
    }
    app.emails()
        .iter()
        .filter_map(|raw| {
            let mail = mailparse::parse_mail(raw.as_bytes()).unwrap();
            let to_header = mail
                .headers
                .iter()
                .find(|h| h.get_key().eq_ignore_ascii_case("To"))?
                .get_value();
            if !to_header.contains(to) {
                return None;
            }
            let ics = find(&mail)?;
            let field = |name: &str| {
                ics.lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}:")))
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default()
            };
            Some((
                field("METHOD"),
                field("UID"),
                field("SEQUENCE").parse().unwrap_or(0),
            ))
        })
        .collect()
}

/// A lead runs a 1:1 from the browser alone: starts a biweekly series after
/// previewing its dates, builds the agenda from talking points, writes a
/// shared and a private note, corrects and removes items, records an action
/// and skips a meeting (the report's calendar gets a CANCEL); the report sees
/// the agenda and the shared note, never the private one.
async fn a_lead_runs_a_one_on_one_from_the_browser(engine: Engine) {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin_token().await;
    let lead_id = app.employee(&admin, json!({"email": "lea@example.com", "name": "Lea Lead", "role": "lead", "hired_on": "2024-01-01", "password": PASSWORD})).await;
    let report_id = app.employee(&admin, json!({"email": "rob@example.com", "name": "Rob Report", "manager_id": lead_id, "hired_on": "2024-01-01", "password": PASSWORD})).await;
    let first_day = (chrono::Utc::now() + chrono::Duration::days(2)).date_naive();

    sign_in(&c, &app, "lea@example.com", PASSWORD).await;
    c.goto(&app.url("/one-on-ones")).await.unwrap();
    submit(&c, "a[href='/one-on-ones/new']").await;
    c.execute(
        "document.querySelector('#report_id').value = arguments[0]; document.querySelector('#cadence').value = 'biweekly'; return true;",
        vec![json!(report_id.to_string())],
    )
    .await
    .unwrap();
    set_date(&c, "#starts_on", &first_day.to_string()).await;
    set_date(&c, "#time", "10:00").await;
    fill(&c, "#timezone", "Europe/Paris").await;
    submit(&c, "button.secondary[value=preview]").await;
    let dates = c.find_all(Locator::Css("ol.dates li")).await.unwrap();
    assert_eq!(dates.len(), 5, "five dates previewed");
    let first = dates[0].text().await.unwrap();
    assert!(first.contains("10:00"), "{first}");
    let second = (first_day + chrono::Duration::days(14))
        .format("%-d %b %Y")
        .to_string();
    assert!(
        dates[1].text().await.unwrap().contains(&second),
        "biweekly: {second}"
    );
    screenshot(&c, "one-on-one-new-desktop", DESKTOP).await;
    accessible(&c, axe_source().as_deref(), "the new 1:1 page").await;
    submit(&c, "#start-series").await;

    // The first meeting's page: talking points, notes, edits, an action.
    let meeting_url = c.current_url().await.unwrap();
    assert!(
        meeting_url.path().starts_with("/meetings/"),
        "{meeting_url}"
    );
    let m1: i64 = meeting_url
        .path()
        .trim_start_matches("/meetings/")
        .parse()
        .unwrap();
    c.execute(
        "document.querySelector('#agenda-template').value = 'builtin:weekly'; return true;",
        vec![],
    )
    .await
    .unwrap();
    submit(&c, "form:has(#agenda-template) button[type=submit]").await;
    let text = body_text(&c).await;
    for item in [
        "Wins since we last met",
        "Blockers",
        "Growth and learning",
        "Feedback, both ways",
    ] {
        assert!(text.contains(item), "{item} is on the agenda: {text}");
    }
    fill(&c, "#note-text", "We agreed on the release plan").await;
    submit(&c, "form:has(#note-text) button[type=submit]").await;
    fill(&c, "#note-text", "Rob might leave for Quokka Labs").await;
    click(&c, "form:has(#note-text) input[name=private]").await;
    submit(&c, "form:has(#note-text) button[type=submit]").await;
    fill(&c, "#action-text", "Book the Rust course").await;
    c.execute(
        "document.querySelector('#action-owner').value = arguments[0]; return true;",
        vec![json!(report_id.to_string())],
    )
    .await
    .unwrap();
    submit(&c, "form:has(#action-text) button[type=submit]").await;

    let lead_token = app.login("lea@example.com", PASSWORD).await;
    let meeting: Value = app
        .get(&format!("/api/v1/meetings/{m1}"), Some(&lead_token))
        .await
        .json()
        .await
        .unwrap();
    let item_id = |text: &str| {
        meeting["agenda"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["text"] == text)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (blockers, growth) = (item_id("Blockers"), item_id("Growth and learning"));
    click(&c, &format!("details:has(#agenda-{blockers}) > summary")).await;
    fill(
        &c,
        &format!("#agenda-{blockers}"),
        "Blockers on the release",
    )
    .await;
    submit(
        &c,
        &format!("form:has(#agenda-{blockers}) button[type=submit]"),
    )
    .await;
    click(&c, &format!("details:has(#agenda-{growth}) > summary")).await;
    submit(
        &c,
        &format!(
            "form:has(input[value=agenda_delete]):has(input[name=item][value='{growth}']) button"
        ),
    )
    .await;
    let text = body_text(&c).await;
    assert!(
        text.contains("Blockers on the release") && text.contains("edited"),
        "{text}"
    );
    assert!(!text.contains("Growth and learning"), "{text}");
    assert!(
        text.contains("Rob might leave for Quokka Labs") && text.contains("Book the Rust course")
    );
    // The lead keeps this agenda as talking points of their own.
    click(&c, "details:has(#template-name) > summary").await;
    fill(&c, "#template-name", "Lea's weekly").await;
    submit(&c, "form:has(#template-name) button[type=submit]").await;
    let options = css(&c, "#agenda-template").await.text().await.unwrap();
    assert!(options.contains("Lea's weekly"), "{options}");
    screenshot(&c, "meeting-lead-phone", PHONE).await;
    accessible(&c, axe_source().as_deref(), "the meeting page").await;
    set_size(&c, PHONE).await;
    fits_the_width(&c, "the meeting page").await;
    set_size(&c, DESKTOP).await;

    // The second meeting is announced, then skipped: both calendars get a CANCEL.
    let meetings: Value = app
        .get(
            &format!("/api/v1/one-on-ones/{}/meetings", meeting["series_id"]),
            Some(&lead_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let m2 = &meetings
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"].as_i64() != Some(m1))
        .expect("a second meeting")["id"];
    let m2_start: chrono::DateTime<chrono::Utc> = meetings
        .as_array()
        .unwrap()
        .iter()
        .find(|m| &m["id"] == m2)
        .unwrap()["starts_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let before = (m2_start - chrono::Duration::hours(1)).to_rfc3339();
    app.tick(&before).await;
    let invites = invites_to(&app, "rob@example.com");
    let request = invites
        .iter()
        .find(|(method, _, _)| method == "REQUEST")
        .expect("an invite to the report")
        .clone();
    c.goto(&app.url(&format!("/meetings/{m2}"))).await.unwrap();
    click(&c, "details.reschedule > summary").await;
    submit(&c, "#skip-meeting").await;
    assert!(body_text(&c).await.contains("skipped"));
    app.tick(&before).await;
    let cancels: Vec<_> = invites_to(&app, "rob@example.com")
        .into_iter()
        .filter(|(m, _, _)| m == "CANCEL")
        .collect();
    assert_eq!(cancels.len(), 1, "{cancels:?}");
    let invites_of_m2: Vec<_> = invites
        .iter()
        .filter(|(_, uid, _)| *uid == cancels[0].1)
        .collect();
    assert!(
        !invites_of_m2.is_empty(),
        "the CANCEL carries the invite's UID"
    );
    assert!(
        cancels[0].2 > request.2.min(invites_of_m2[0].2),
        "a higher SEQUENCE"
    );

    // The report sees the agenda and the shared note, not the private one.
    c.delete_all_cookies().await.unwrap();
    sign_in(&c, &app, "rob@example.com", PASSWORD).await;
    c.goto(&app.url(&format!("/meetings/{m1}"))).await.unwrap();
    let text = body_text(&c).await;
    assert!(
        text.contains("Blockers on the release") && text.contains("We agreed on the release plan"),
        "{text}"
    );
    assert!(text.contains("Book the Rust course"));
    assert!(
        !text.contains("Quokka"),
        "the report reads the lead's private note: {text}"
    );

    // Time passes: the first meeting took place yesterday. HR sees that it
    // happened, and nothing of what was written in it.
    {
        use diesel::prelude::*;
        use pulse::db::schema::meetings;
        let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).naive_utc();
        diesel::update(meetings::table.find(m1 as i32))
            .set((
                meetings::starts_at.eq(yesterday),
                meetings::ends_at.eq(yesterday + chrono::Duration::minutes(30)),
            ))
            .execute(&mut app.conn())
            .unwrap();
    }
    c.delete_all_cookies().await.unwrap();
    sign_in(&c, &app, ADMIN_EMAIL, PASSWORD).await;
    c.goto(&app.url("/one-on-ones/overview")).await.unwrap();
    let row = css(&c, "tbody tr").await.text().await.unwrap();
    assert!(
        row.contains("Lea Lead") && row.contains("Rob Report"),
        "{row}"
    );
    let held = css(&c, "tbody tr td:nth-child(6)")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(held, "1", "the 1:1 that took place is counted: {row}");
    let text = body_text(&c).await;
    for written in [
        "Blockers",
        "release plan",
        "Quokka",
        "Rust course",
        "Wins since",
    ] {
        assert!(
            !text.contains(written),
            "HR reads `{written}` on the overview: {text}"
        );
    }
    c.goto(&app.url(&format!("/meetings/{m1}"))).await.unwrap();
    let text = body_text(&c).await;
    assert!(
        !text.contains("release plan") && !text.contains("Quokka"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_runs_a_one_on_one_from_the_browser_sqlite() {
    a_lead_runs_a_one_on_one_from_the_browser(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_runs_a_one_on_one_from_the_browser_postgres() {
    a_lead_runs_a_one_on_one_from_the_browser(Engine::Postgres).await;
}

/// From Pulse's sign-in page through the provider and back; the provider's
/// login form shows only while it has no session of its own.
async fn through_the_provider(c: &Client, app: &TestApp, issuer: &str, login: &str) {
    c.goto(&app.url("/login")).await.unwrap();
    submit(c, "#sso").await;
    let at = c.current_url().await.unwrap();
    if at.as_str().starts_with(issuer) {
        fill(c, "input[name=login]", login).await;
        fill(c, "input[name=password]", "the provider's own password").await;
        submit(c, "button.login-submit").await;
    }
}

/// Single sign-on in a real browser: a provider that misbehaves (another
/// key, another audience, an expired token, another sign-in's nonce) signs
/// no one in; then the sign-in works, its callback cannot be replayed, and
/// the person opens their private notes with a notes passphrase, since no
/// password reached Pulse.
async fn a_person_signs_in_through_the_openid_provider(engine: Engine) {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let port = oidc_provider::free_port();
    let vars = oidc_provider::settings(port);
    let borrowed: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let Some(app) = helpers::spawn_app_with(engine, &borrowed).await else {
        return;
    };
    let provider = oidc_provider::start(port, &app.url("/auth/oidc/callback"));
    let admin = app.admin_token().await;
    app.employee(
        &admin,
        json!({"email": "ada@example.com", "name": "Ada Lovelace", "hired_on": "2024-01-01"}),
    )
    .await;

    for (mode, why) in [
        ("key", "signature does not verify"),
        ("aud", "issued for another application"),
        ("exp", "has expired"),
        ("nonce", "answers another sign-in"),
    ] {
        provider.tamper(mode).await;
        through_the_provider(&c, &app, &provider.issuer, "ada@example.com").await;
        let text = body_text(&c).await;
        assert!(text.contains(why), "{mode}: {text}");
        assert!(
            text.contains("Sign in with Acme ID"),
            "{mode}: back at sign-in"
        );
    }

    through_the_provider(&c, &app, &provider.issuer, "ada@example.com").await;
    css(&c, "nav.site-nav").await;
    let at = c.current_url().await.unwrap();
    assert!(at.as_str().starts_with(&app.address), "back at Pulse: {at}");
    assert!(body_text(&c).await.contains("Ada Lovelace"));
    // The provider's answer, replayed, signs no one in.
    c.goto(&provider.last_callback().await).await.unwrap();
    let text = body_text(&c).await;
    assert!(text.contains("start again"), "{text}");

    c.goto(&app.url("/account/notes")).await.unwrap();
    assert!(body_text(&c).await.contains("Waiting for your passphrase"));
    fill(&c, "#notes-passphrase", "a long notes passphrase").await;
    submit(&c, "form[action='/account/notes/passphrase'] button").await;
    let text = body_text(&c).await;
    assert!(
        text.contains("Your private notes are open in this session"),
        "{text}"
    );
    assert!(text.contains("Unlocked"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_through_the_openid_provider_sqlite() {
    a_person_signs_in_through_the_openid_provider(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_through_the_openid_provider_postgres() {
    a_person_signs_in_through_the_openid_provider(Engine::Postgres).await;
}

/// HR builds a rotating weekly pulse from a template in under a minute: one
/// click fills the builder (questions from the library with their drivers, a
/// schedule, a rotation and its coverage plan), everything stays editable, one
/// more click creates it; the first person asked gets eNPS, three drawn
/// questions and the comment, and answers them.
async fn hr_builds_a_rotating_pulse_from_a_template(engine: Engine) {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let token = app.admin_token().await;
    for i in 0..5 {
        app.employee(&token, json!({"email": format!("e{i}@example.com"), "name": format!("Employee {i}"), "hired_on": "2024-01-01"})).await;
    }
    sign_in(&c, &app, ADMIN_EMAIL, PASSWORD).await;
    let started = std::time::Instant::now();
    c.goto(&app.url("/surveys")).await.unwrap();
    submit(&c, ".page-head a[href='/surveys/new']").await;
    submit(&c, "button[value=template-weekly-engagement]").await;
    let text = body_text(&c).await;
    assert!(text.contains("Coverage plan."), "{text}");
    assert!(text.contains("3 of the 41 rotating questions"), "{text}");
    assert_eq!(
        css(&c, "#title")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("Weekly engagement pulse")
    );
    assert_eq!(
        css(&c, "#q1_driver")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("recognition"),
        "each question carries its driver"
    );
    screenshot(&c, "builder-template-desktop", DESKTOP).await;
    // Still editable: four a round instead of three, and the plan follows.
    fill(&c, "#per_round", "4").await;
    submit(
        &c,
        "section[aria-labelledby=s-rotation] button[value=preview]",
    )
    .await;
    let text = body_text(&c).await;
    assert!(text.contains("4 of the 41 rotating questions"), "{text}");
    submit(&c, "button[value=create]").await;
    let text = body_text(&c).await;
    assert!(text.contains("Survey created."), "{text}");
    assert!(text.contains("Rotating: 4 a round per person."), "{text}");
    // "Under a minute" is the number of steps, not the machine's speed: from the
    // surveys page, New survey, one template button and Create (one edit on the
    // way). The time is printed for the record, never asserted.
    eprintln!(
        "built a rotating pulse from a template in {:?}",
        started.elapsed()
    );
    screenshot(&c, "survey-rotating-desktop", DESKTOP).await;

    // A round: each link asks eNPS, its own four drawn questions and the comment.
    submit(&c, "form[action$='/rounds'] button").await;
    app.tick(&chrono::Utc::now().to_rfc3339()).await;
    let links: Vec<String> = app.emails().iter().filter_map(|e| answer_link(e)).collect();
    assert_eq!(links.len(), 6);
    set_size(&c, PHONE).await;
    c.goto(&app.url(&links[0])).await.unwrap();
    let fieldsets = c
        .find_all(Locator::Css("main fieldset"))
        .await
        .unwrap()
        .len();
    assert_eq!(fieldsets, 6, "eNPS, four drawn, the comment");
    screenshot(&c, "answer-rotating-phone", PHONE).await;
    click(&c, "fieldset:nth-of-type(1) input[value='9']").await;
    for n in 2..=5 {
        click(&c, &format!("fieldset:nth-of-type({n}) input[value='4']")).await;
    }
    submit(&c, "main button[type=submit]").await;
    assert!(body_text(&c).await.contains("Thank you"));
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hr_builds_a_rotating_pulse_from_a_template_sqlite() {
    hr_builds_a_rotating_pulse_from_a_template(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hr_builds_a_rotating_pulse_from_a_template_postgres() {
    hr_builds_a_rotating_pulse_from_a_template(Engine::Postgres).await;
}

/// HR opens the key drivers from the reports pages after three closed rounds: the
/// drivers ranked by impact with their intervals said in words (the figures of
/// tests/api/drivers.rs), intent to stay beside them; a team whose cell is hidden
/// shows why instead of a figure.
async fn hr_reads_the_key_drivers(engine: Engine) {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let admin = app.admin_token().await;
    let (_ops, sales) = drivers_seed::three_rounds(&app, &admin).await;
    sign_in(&c, &app, ADMIN_EMAIL, PASSWORD).await;
    c.goto(&app.url("/reports/enps")).await.unwrap();
    submit(&c, "nav[aria-label=Reports] a[href='/reports/drivers']").await;
    set_date(&c, "#from", "2026-10-01").await;
    set_date(&c, "#to", "2026-11-30").await;
    submit(&c, "form.filters button[type=submit]").await;

    let rows = c.find_all(Locator::Css("#drivers tbody tr")).await.unwrap();
    let mut ranked = vec![];
    for r in &rows {
        ranked.push(r.attr("data-driver").await.unwrap().unwrap_or_default());
    }
    assert_eq!(ranked, ["growth", "manager"]);
    let growth = rows[0].text().await.unwrap();
    for want in [
        "Growth",
        "3.50 of 5 (n = 14)",
        "+1.75 (+0.95 to +2.55): a significant rise",
        "r = +0.973 (+0.916 to +0.992), n = 14: a clear link with eNPS",
    ] {
        assert!(growth.contains(want), "{want} in {growth}");
    }
    let manager = rows[1].text().await.unwrap();
    assert!(
        manager.contains("+0.13 (−0.55 to +0.80): no significant change"),
        "{manager}"
    );
    let outcomes = css(&c, "#outcomes").await.text().await.unwrap();
    assert!(
        outcomes.contains("Intent to stay") && outcomes.contains("3.86 of 5 (n = 14)"),
        "{outcomes}"
    );
    accessible(&c, axe_source().as_deref(), "the key-driver page").await;
    screenshot(&c, "drivers-desktop", DESKTOP).await;
    set_size(&c, PHONE).await;
    fits_the_width(&c, "the key-driver page").await;
    screenshot(&c, "drivers-phone", PHONE).await;
    set_size(&c, DESKTOP).await;

    // Sales in November alone: two answers, hidden, and the page says why.
    css(&c, "#team_id")
        .await
        .select_by_value(&sales.to_string())
        .await
        .unwrap();
    set_date(&c, "#from", "2026-11-01").await;
    set_date(&c, "#to", "2026-11-30").await;
    submit(&c, "form.filters button[type=submit]").await;
    let text = css(&c, "#drivers").await.text().await.unwrap();
    assert!(
        text.contains("hidden: too few answers to show without risking anonymity"),
        "{text}"
    );
    assert!(!text.contains("of 5"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hr_reads_the_key_drivers_sqlite() {
    hr_reads_the_key_drivers(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hr_reads_the_key_drivers_postgres() {
    hr_reads_the_key_drivers(Engine::Postgres).await;
}
