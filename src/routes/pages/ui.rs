//! What every signed-in page shares: the session with its CSRF token, the
//! navigation of each role, flash messages after redirects, form data, and
//! errors shown as HTML pages rather than JSON.

use crate::auth::caller::session_token;
use crate::auth::Caller;
use crate::domain::people::Role;
use crate::error::AppError;
use crate::repo::teams::Team;
use crate::routes::pages::render;
use crate::state::AppState;
use crate::tokens::sha256_hex;
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::error::InternalError;
use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

pub type PageResult = Result<HttpResponse, actix_web::Error>;

const CSS: &str = include_str!("../../../static/pulse.css");
const JS: &str = include_str!("../../../static/pulse.js");
pub const FLASH_COOKIE: &str = "pulse_flash";

/// Changes whenever the stylesheet does, so browsers may cache it for long.
static ASSET_VERSION: LazyLock<String> =
    LazyLock::new(|| sha256_hex(&format!("{CSS}{JS}"))[..12].to_string());

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=604800"))
        .body(CSS)
}

pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=604800"))
        .body(JS)
}

/// Fills in what the layout reads, so pages that know nothing of the
/// navigation (setup, the answering form, error pages) still render.
pub(crate) fn layout_defaults(data: &mut Value) {
    if let Value::Object(m) = data {
        for (k, v) in [
            ("user", Value::Null),
            ("nav", Value::Null),
            ("csrf", Value::Null),
            ("flash", Value::Null),
            ("narrow", Value::Bool(true)),
        ] {
            m.entry(k).or_insert(v);
        }
        m.insert("asset_version".into(), json!(*ASSET_VERSION));
    }
}

/// An error that is already an HTML page.
pub fn fail(res: HttpResponse) -> actix_web::Error {
    InternalError::from_response("page refused", res).into()
}

/// A message after a redirect: "Saved", "Could not send"…
#[derive(Debug, Clone, Serialize)]
pub struct Flash {
    pub kind: &'static str,
    pub text: String,
}

fn keys(req: &HttpRequest) -> Option<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>().cloned()
}

fn read_flash(req: &HttpRequest) -> Option<Flash> {
    let state = keys(req)?;
    let cookie = req.cookie(FLASH_COOKIE)?;
    let (body, tag) = cookie.value().rsplit_once('.')?;
    if !state.jwt.check_tag("flash", body, tag) {
        return None;
    }
    let (kind, text) = body.split_once('.')?;
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()?;
    Some(Flash {
        kind: if kind == "ok" { "ok" } else { "error" },
        text: String::from_utf8(text).ok()?,
    })
}

/// Redirects (303) with a message shown once on the next page. The message
/// is signed, so another site cannot put words in Pulse's mouth.
pub fn redirect_with(req: &HttpRequest, to: &str, ok: bool, text: &str) -> HttpResponse {
    let mut res = crate::routes::pages::redirect(to);
    if let Some(state) = keys(req) {
        let body = format!(
            "{}.{}",
            if ok { "ok" } else { "error" },
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
        );
        let tag = state.jwt.tag("flash", &body);
        let cookie = Cookie::build(FLASH_COOKIE, format!("{body}.{tag}"))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(state.settings.is_https())
            .max_age(time::Duration::minutes(2))
            .finish();
        let _ = res.add_cookie(&cookie);
    }
    res
}

/// The session of a page request, whatever its state: pages decide what a
/// missing one means (a redirect to /login) instead of answering JSON.
pub struct Session {
    caller: Result<Caller, AppError>,
    token: Option<String>,
}

impl FromRequest for Session {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        let token = session_token(req).map(|(t, _)| t);
        Box::pin(async move {
            Ok(Session {
                caller: caller.await,
                token,
            })
        })
    }
}

/// Where to sign in, coming back to this page afterwards.
fn login_url(req: &HttpRequest) -> String {
    let here = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    };
    if here == "/" || req.method() != Method::GET {
        "/login".into()
    } else {
        let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
        format!("/login?next={next}")
    }
}

/// A path Pulse may send someone to after signing in: its own, never another site.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if is_same_site_path(n) => n,
        _ => "/",
    }
}

/// A path on this site: a single leading `/` (`//host` names another host),
/// no backslash (browsers read `/\host` as `//host`), and no control
/// character (browsers drop tabs and line breaks, so `/\t/evil.example`
/// becomes `//evil.example`; CR and LF cannot go in a header at all).
pub fn is_same_site_path(n: &str) -> bool {
    n.starts_with('/')
        && !n.starts_with("//")
        && !n.contains('\\')
        && !n.chars().any(char::is_control)
}

impl Session {
    /// No session, or one that expired: nothing to protect.
    pub fn is_signed_out(&self) -> bool {
        matches!(self.caller, Err(AppError::Unauthorized(_)))
    }

    /// The signed-in user, or the response that stands instead of the page:
    /// a redirect to /login, or a 403 page for a cross-site write.
    pub fn require(self, req: &HttpRequest) -> Result<User, actix_web::Error> {
        match self.caller {
            Ok(caller) => {
                let state =
                    keys(req).ok_or_else(|| fail(HttpResponse::InternalServerError().finish()))?;
                let csrf = state
                    .jwt
                    .tag("csrf", self.token.as_deref().unwrap_or_default());
                Ok(User {
                    caller,
                    csrf,
                    flash: read_flash(req),
                })
            }
            Err(AppError::Unauthorized(_)) => {
                Err(fail(crate::routes::pages::redirect(&login_url(req))))
            }
            Err(e) => Err(error_page(req, None, e)),
        }
    }
}

/// A signed-in person on a page.
pub struct User {
    pub caller: Caller,
    pub csrf: String,
    flash: Option<Flash>,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.caller.role == Role::Admin
    }

    /// HR pages: people, teams, surveys.
    pub fn require_admin(&self, req: &HttpRequest) -> Result<(), actix_web::Error> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(self.forbidden(req, "This page is for HR administrators."))
        }
    }

    /// Reports: HR and team leads.
    pub fn require_reports(&self, req: &HttpRequest) -> Result<(), actix_web::Error> {
        if self.caller.role == Role::Member {
            Err(self.forbidden(req, "Reports are for HR and team leads."))
        } else {
            Ok(())
        }
    }

    /// Every state-changing form carries the session's token; a form from
    /// another site cannot know it.
    pub fn check_csrf(&self, req: &HttpRequest, form: &FormData) -> Result<(), actix_web::Error> {
        let sent = form.get("csrf");
        let ok = !sent.is_empty()
            && sent.len() == self.csrf.len()
            && keys(req).is_some_and(|s| {
                session_token(req).is_some_and(|(t, _)| s.jwt.check_tag("csrf", &t, sent))
            });
        if ok {
            Ok(())
        } else {
            Err(fail(self.message(
                req,
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form was not sent from this session. Go back, reload the page and try again.",
            )))
        }
    }

    pub fn forbidden(&self, req: &HttpRequest, text: &str) -> actix_web::Error {
        fail(self.message(
            req,
            StatusCode::FORBIDDEN,
            "You do not have access to this page",
            text,
        ))
    }

    /// An error of the layers below, as a page with this user's navigation.
    pub fn error(&self, req: &HttpRequest, e: AppError) -> actix_web::Error {
        error_page(req, Some(self), e)
    }

    pub fn not_found(&self, req: &HttpRequest, text: &str) -> actix_web::Error {
        fail(self.message(req, StatusCode::NOT_FOUND, "Page not found", text))
    }

    pub fn message(
        &self,
        req: &HttpRequest,
        status: StatusCode,
        heading: &str,
        text: &str,
    ) -> HttpResponse {
        self.render(
            req,
            status,
            "message",
            json!({ "title": heading, "heading": heading, "text": text,
                    "link": {"href": "/", "label": "Back to the dashboard"} }),
        )
    }

    /// Renders a page with the navigation of this user's role.
    pub fn render(
        &self,
        req: &HttpRequest,
        status: StatusCode,
        template: &str,
        mut data: Value,
    ) -> HttpResponse {
        if let Value::Object(m) = &mut data {
            let c = &self.caller;
            m.insert(
                "user".into(),
                json!({ "id": c.id, "name": c.name, "email": c.email, "role": c.role.as_str() }),
            );
            m.insert("nav".into(), json!(nav(c.role, req.path())));
            m.insert("csrf".into(), json!(self.csrf));
            m.insert("flash".into(), json!(self.flash));
            m.entry("narrow").or_insert(json!(false));
        }
        let mut res = render(req, status, template, data);
        if self.flash.is_some() {
            let mut gone = Cookie::build(FLASH_COOKIE, "").path("/").finish();
            gone.make_removal();
            let _ = res.add_removal_cookie(&gone);
        }
        res
    }

    pub fn page(&self, req: &HttpRequest, template: &str, data: Value) -> HttpResponse {
        self.render(req, StatusCode::OK, template, data)
    }
}

/// For pages that take a plain `Caller`: the navigation, the signed-in
/// person and the form token, as `User::render` adds them.
pub fn shell(req: &HttpRequest, caller: &Caller, data: &mut Value) {
    if let Value::Object(m) = data {
        m.insert(
            "user".into(),
            json!({ "id": caller.id, "name": caller.name, "email": caller.email, "role": caller.role.as_str() }),
        );
        m.insert("nav".into(), json!(nav(caller.role, req.path())));
        if let (Some(state), Some((token, _))) = (keys(req), session_token(req)) {
            m.insert("csrf".into(), json!(state.jwt.tag("csrf", &token)));
        }
    }
}

/// Whether a form sent with the session cookie carries that session's token.
/// A Bearer token is never sent by a browser on its own, so it needs none.
pub fn form_token_ok(req: &HttpRequest, sent: Option<&str>) -> bool {
    match (keys(req), session_token(req)) {
        (Some(state), Some((token, true))) => {
            sent.is_some_and(|t| state.jwt.check_tag("csrf", &token, t))
        }
        (_, Some((_, false))) => true,
        _ => false,
    }
}

/// Shows an error of the layers below as a page.
fn error_page(req: &HttpRequest, user: Option<&User>, e: AppError) -> actix_web::Error {
    use actix_web::ResponseError;
    let status = e.status_code();
    let (heading, text) = match &e {
        AppError::Forbidden(m) => ("You do not have access to this page", m.clone()),
        AppError::NotFound(m) => ("Page not found", format!("Nothing here: {m}.")),
        AppError::Internal(err) => {
            tracing::error!(error = ?err, "page failed");
            (
                "Something went wrong",
                "Pulse could not finish this request. Try again in a moment.".into(),
            )
        }
        AppError::Unavailable(err) => {
            tracing::error!(error = %err, "database unavailable");
            (
                "Pulse is busy",
                "The database is not answering right now. Try again in a moment.".into(),
            )
        }
        other => ("That did not work", other.to_string()),
    };
    let res = match user {
        Some(u) => u.message(req, status, heading, &text),
        None => crate::routes::pages::message_page(req, status, heading, &text),
    };
    fail(res)
}

/// `?` for results of the layers below, inside page handlers.
pub trait OrPage<T> {
    fn or_page(self, req: &HttpRequest, user: &User) -> Result<T, actix_web::Error>;
}

impl<T> OrPage<T> for Result<T, AppError> {
    fn or_page(self, req: &HttpRequest, user: &User) -> Result<T, actix_web::Error> {
        self.map_err(|e| error_page(req, Some(user), e))
    }
}

/// The page number a list was asked for (`?page=`): 1 when absent or not a
/// number from 1 up.
pub fn page_number(asked: Option<&str>) -> i64 {
    asked
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
}

/// The pager of a list page: `page`, `pages`, and the `prev` and `next` links
/// that `link` makes for a page number.
pub fn pager(page: i64, total: i64, per_page: i64, link: impl Fn(i64) -> String) -> Value {
    let pages = ((total + per_page - 1) / per_page).max(1);
    json!({
        "page": page,
        "pages": pages,
        "prev": (page > 1).then(|| link(page - 1)),
        "next": (page < pages).then(|| link(page + 1)),
    })
}

/// The fields of an urlencoded form, in order, repeated names kept.
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of a field, or "".
    pub fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// The trimmed value of a field, None when empty.
    pub fn opt(&self, key: &str) -> Option<String> {
        Some(self.get(key).trim())
            .filter(|v| !v.is_empty())
            .map(String::from)
    }

    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    /// An id chosen in a select: None for "none", Err for something that is not an id.
    pub fn id(&self, key: &str) -> Result<Option<i32>, String> {
        match self.opt(key) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| format!("`{v}` is not one of the choices")),
        }
    }
}

impl FromRequest for FormData {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<Vec<(String, String)>>::from_request(req, payload);
        Box::pin(async move { Ok(FormData(form.await?.into_inner())) })
    }
}

/// The per-field messages of a refused form, keyed as the form names its fields.
pub fn field_errors(e: &AppError) -> Option<BTreeMap<String, String>> {
    match e {
        AppError::Validation { fields, .. } => Some(fields.clone()),
        AppError::Conflict {
            code: "duplicate_email",
            message,
        } => Some(BTreeMap::from([("email".to_string(), message.clone())])),
        AppError::Conflict {
            code: "duplicate_team",
            message,
        } => Some(BTreeMap::from([("name".to_string(), message.clone())])),
        AppError::Conflict { message, .. } => {
            Some(BTreeMap::from([("form".to_string(), message.clone())]))
        }
        _ => None,
    }
}

#[derive(Serialize)]
struct NavItem {
    href: &'static str,
    label: &'static str,
    current: bool,
}

/// Admin: everything; lead: their dashboard and reports; member: their dashboard.
fn nav(role: Role, path: &str) -> Vec<NavItem> {
    let items: &[(&str, &str, &[&str])] = match role {
        Role::Admin => &[
            ("/", "Dashboard", &[]),
            ("/people", "People", &["/people"]),
            ("/teams", "Teams", &["/teams"]),
            ("/surveys", "Surveys", &["/surveys", "/rounds"]),
            ("/reports/enps", "Reports", &["/reports"]),
            ("/action-plans", "Actions", &["/action-plans"]),
            ("/one-on-ones/overview", "1:1 overview", &[]),
            ("/audit", "Audit trail", &[]),
            ("/webhooks", "Webhooks", &[]),
        ],
        Role::Lead => &[
            ("/", "Dashboard", &["/rounds"]),
            ("/reports/enps", "Reports", &["/reports"]),
            ("/action-plans", "Actions", &["/action-plans"]),
        ],
        Role::Member => &[("/", "Dashboard", &[])],
    };
    items
        .iter()
        .map(|&(href, label, prefixes)| NavItem {
            href,
            label,
            current: path == href || prefixes.iter().any(|p| path.starts_with(p)),
        })
        .collect()
}

/// Teams in tree order, each with its depth and full path ("Engineering / Web").
pub struct TeamTree {
    pub rows: Vec<(Team, usize, String)>,
}

impl TeamTree {
    pub fn new(teams: Vec<Team>) -> Self {
        let ids: std::collections::BTreeSet<i32> = teams.iter().map(|t| t.id).collect();
        let mut children: HashMap<Option<i32>, Vec<Team>> = HashMap::new();
        for t in teams {
            // A parent that is not in the list (not visible) makes a root.
            let parent = t.parent_id.filter(|p| ids.contains(p));
            children.entry(parent).or_default().push(t);
        }
        for list in children.values_mut() {
            list.sort_by_key(|a| a.name.to_lowercase());
        }
        let mut rows = Vec::new();
        let mut stack: Vec<(Team, usize, String)> = children
            .remove(&None)
            .unwrap_or_default()
            .into_iter()
            .rev()
            .map(|t| {
                let path = t.name.clone();
                (t, 0, path)
            })
            .collect();
        while let Some((t, depth, path)) = stack.pop() {
            if let Some(kids) = children.remove(&Some(t.id)) {
                for k in kids.into_iter().rev() {
                    let p = format!("{path} / {}", k.name);
                    stack.push((k, depth + 1, p));
                }
            }
            rows.push((t, depth, path));
        }
        Self { rows }
    }

    pub fn name(&self, id: i32) -> Option<&str> {
        self.rows
            .iter()
            .find(|(t, _, _)| t.id == id)
            .map(|(_, _, p)| p.as_str())
    }

    /// `<option>`s for a select, the chosen ones marked.
    pub fn options(&self, selected: &[i32]) -> Vec<Value> {
        self.rows
            .iter()
            .map(|(t, _, path)| {
                json!({ "value": t.id, "label": path, "selected": selected.contains(&t.id) })
            })
            .collect()
    }
}

/// "Mon 7 Dec 2026, 09:00" in the given zone.
pub fn local_time(at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    at.with_timezone(&tz)
        .format("%a %-d %b %Y, %H:%M")
        .to_string()
}

pub fn percent(v: Option<f64>) -> String {
    v.map(|p| format!("{}%", p.round() as i64))
        .unwrap_or_else(|| "–".into())
}

pub fn signed(v: i32) -> String {
    if v > 0 {
        format!("+{v}")
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team(id: i32, name: &str, parent: Option<i32>) -> Team {
        Team {
            id,
            name: name.into(),
            parent_id: parent,
            lead_id: None,
            created_at: chrono::NaiveDateTime::default(),
        }
    }

    #[test]
    fn team_tree_orders_by_path() {
        let tree = TeamTree::new(vec![
            team(1, "Sales", None),
            team(2, "Web", Some(3)),
            team(3, "Engineering", None),
            team(4, "Api", Some(3)),
        ]);
        let paths: Vec<(&str, usize)> =
            tree.rows.iter().map(|(_, d, p)| (p.as_str(), *d)).collect();
        assert_eq!(
            paths,
            vec![
                ("Engineering", 0),
                ("Engineering / Api", 1),
                ("Engineering / Web", 1),
                ("Sales", 0)
            ]
        );
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/people?q=a")), "/people?q=a");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("")), "/");
        assert_eq!(safe_next(Some("evil.example")), "/");
        assert_eq!(safe_next(Some("/surveys/3\\..")), "/");
        for control in ["\t", "\n", "\r", "\r\n", "\0", "\u{7f}", "\u{85}"] {
            let next = format!("/{control}/evil.example");
            assert_eq!(safe_next(Some(&next)), "/", "{next:?}");
            let next = format!("/people{control}Set-Cookie: x=1");
            assert_eq!(safe_next(Some(&next)), "/", "{next:?}");
        }
        assert_eq!(
            safe_next(Some("/reports/enps?team_id=3")),
            "/reports/enps?team_id=3"
        );
    }

    #[test]
    fn navigation_follows_the_role() {
        let labels = |r| nav(r, "/").iter().map(|i| i.label).collect::<Vec<_>>();
        assert_eq!(
            labels(Role::Admin),
            [
                "Dashboard",
                "People",
                "Teams",
                "Surveys",
                "Reports",
                "Actions",
                "1:1 overview",
                "Audit trail",
                "Webhooks",
            ]
        );
        assert_eq!(labels(Role::Lead), ["Dashboard", "Reports", "Actions"]);
        assert_eq!(labels(Role::Member), ["Dashboard"]);
        assert!(nav(Role::Admin, "/rounds/4")[3].current);
    }
}

/// One form control as the `input` and `select` partials draw it: label,
/// value kept after a refusal, and the reason beside it.
#[derive(Serialize)]
pub struct Field {
    id: String,
    name: String,
    label: String,
    kind: &'static str,
    value: String,
    error: Option<String>,
    hint: Option<String>,
    required: bool,
    autocomplete: Option<&'static str>,
    list: Option<String>,
    min: Option<String>,
    max: Option<String>,
    options: Vec<Value>,
}

pub fn field(name: &str, label: &str) -> Field {
    Field {
        id: name.replace(['.', '[', ']'], "-"),
        name: name.into(),
        label: label.into(),
        kind: "text",
        value: String::new(),
        error: None,
        hint: None,
        required: false,
        autocomplete: None,
        list: None,
        min: None,
        max: None,
        options: vec![],
    }
}

impl Field {
    pub fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }
    pub fn value(mut self, v: impl Into<String>) -> Self {
        self.value = v.into();
        self
    }
    /// Takes this field's reason, if any, from a map of refusals.
    pub fn errors(mut self, errors: &BTreeMap<String, String>) -> Self {
        self.error = errors.get(&self.name).cloned();
        self
    }
    pub fn error_from(mut self, errors: &BTreeMap<String, String>, key: &str) -> Self {
        self.error = errors.get(key).cloned();
        self
    }
    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hint = Some(h.into());
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn autocomplete(mut self, a: &'static str) -> Self {
        self.autocomplete = Some(a);
        self
    }
    pub fn list(mut self, id: &str) -> Self {
        self.list = Some(id.into());
        self
    }
    pub fn range(mut self, min: impl ToString, max: impl ToString) -> Self {
        self.min = Some(min.to_string());
        self.max = Some(max.to_string());
        self
    }
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }
    /// A select: `(value, label)` pairs, the one equal to the value chosen.
    pub fn options<V: ToString, L: ToString>(
        mut self,
        opts: impl IntoIterator<Item = (V, L)>,
    ) -> Self {
        self.kind = "select";
        self.options = opts
            .into_iter()
            .map(|(v, l)| {
                let v = v.to_string();
                json!({ "selected": v == self.value, "value": v, "label": l.to_string() })
            })
            .collect();
        self
    }
    pub fn json(self) -> Value {
        json!(self)
    }
}
