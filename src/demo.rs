//! `pulse demo`: a believable company with nested teams, turnover and years of weekly pulses.

use crate::db::insert_all;
use crate::db::schema::{answers, employees, responses, round_team_stats, team_memberships};
use crate::db::DbConnection;
use crate::domain::enps::{classify, Category};
use crate::domain::survey::{EnpsScale, Question, QuestionKind};
use crate::repo::rounds::{AnswerRow, ResponseRow};
use crate::repo::{self, rounds::NewRound, surveys::NewSurvey};
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

const DEPARTMENTS: &[(&str, &[&str])] = &[
    (
        "Engineering",
        &["Platform", "Web", "Mobile", "Data", "Security"],
    ),
    ("Product", &["Design", "Research", "Product Management"]),
    ("Sales", &["Enterprise", "Mid-Market", "Partnerships"]),
    (
        "Customer Success",
        &["Support", "Onboarding", "Support Nights"],
    ),
    ("Operations", &["Facilities", "IT"]),
    ("People", &["Recruiting", "People Partners"]),
    ("Finance", &["Accounting", "Payroll"]),
    ("Marketing", &["Brand", "Growth"]),
];

const FIRST: &[&str] = &[
    "Ana", "Bo", "Chloé", "Dmitri", "Emma", "Farid", "Grace", "Hugo", "Inès", "Jonas", "Kenji",
    "Lina", "Mateo", "Nora", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tara", "Umar", "Vera",
    "Wen", "Yara", "Zoé",
];
const LAST: &[&str] = &[
    "Lima", "Berg", "Martin", "Ivanov", "Dubois", "Haddad", "Kim", "Moreau", "Rossi", "Schmidt",
    "Tanaka", "Nguyen", "Garcia", "Okafor", "Silva", "Patel", "Lefèvre", "Jensen", "Costa",
    "Novak",
];

#[derive(Debug, Default)]
pub struct DemoReport {
    pub teams: usize,
    pub employees: usize,
    pub rounds: usize,
    pub responses: usize,
    pub answers: usize,
    pub one_on_ones: usize,
}

#[derive(Insertable)]
#[diesel(table_name = round_team_stats)]
struct StatsRow {
    round_id: i32,
    team_id: i32,
    invited: i32,
    responses: i32,
    promoters: i32,
    passives: i32,
    detractors: i32,
}

struct Person {
    id: i32,
    team: i32,
    hired_on: NaiveDate,
    left_on: Option<NaiveDate>,
}

/// Builds the company in one transaction; `password_hash` signs in the HR
/// admin and every team lead.
pub fn run(
    conn: &mut DbConnection,
    headcount: usize,
    weeks: u32,
    password_hash: &str,
    seed: u64,
) -> anyhow::Result<DemoReport> {
    let mut rng = StdRng::seed_from_u64(seed);
    let today = Utc::now().date_naive();
    let now = Utc::now().naive_utc();
    crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
        if repo::surveys::list(conn, 0, 1)?.1 > 0
            || repo::employees::list(
                conn,
                &repo::employees::ListQuery {
                    filter: repo::employees::Filter::All,
                    team_id: None,
                    search: None,
                    offset: 0,
                    limit: 1,
                },
            )?
            .1 > 1
        {
            anyhow::bail!("this database already has people or surveys: run `pulse demo` on an empty database");
        }
        let mut report = DemoReport::default();
        let admin_email =
            crate::domain::email::Email::parse("hr@demo.pulse.example").expect("valid");
        repo::employees::make_admin(conn, &admin_email, "Hana Admin", password_hash)?;

        // Teams: departments and their sub-teams, with a mood that drives answers.
        let mut leaf_teams = Vec::new();
        let mut mood: BTreeMap<i32, f64> = BTreeMap::new();
        let wanted_leaves = (headcount / 12).max(4);
        let mut round_no = 0;
        while leaf_teams.len() < wanted_leaves {
            for (dept, subs) in DEPARTMENTS {
                let dept_name = if round_no == 0 {
                    dept.to_string()
                } else {
                    format!("{dept} {}", round_no + 1)
                };
                let dept_id = repo::teams::insert(
                    conn,
                    &repo::teams::NewTeam {
                        name: &dept_name,
                        parent_id: None,
                        lead_id: None,
                        created_at: now,
                    },
                )?;
                report.teams += 1;
                for sub in *subs {
                    let id = repo::teams::insert(
                        conn,
                        &repo::teams::NewTeam {
                            name: sub,
                            parent_id: Some(dept_id),
                            lead_id: None,
                            created_at: now,
                        },
                    )?;
                    report.teams += 1;
                    leaf_teams.push((id, dept_id));
                    mood.insert(id, rng.gen_range(-0.35..0.45));
                }
                if leaf_teams.len() >= wanted_leaves {
                    break;
                }
            }
            round_no += 1;
        }

        // People: hires spread over four years, about 12% leaving each year.
        let history_start = today - Duration::days(4 * 365);
        let mut people = Vec::new();
        let mut rows = Vec::new();
        let total = headcount + headcount * 12 * 4 / 100;
        for i in 0..total {
            let (team, _) = leaf_teams[i % leaf_teams.len()];
            let hired_on = if i < headcount * 6 / 10 {
                history_start - Duration::days(rng.gen_range(0..1500))
            } else {
                history_start + Duration::days(rng.gen_range(0..(4 * 365)))
            };
            let leaves = i >= headcount;
            let left_on = leaves.then(|| {
                let span = (today - hired_on).num_days().max(30);
                (hired_on + Duration::days(rng.gen_range(20..span))).min(today - Duration::days(1))
            });
            let reason = left_on.map(|_| match rng.gen_range(0..10) {
                0..=6 => "voluntary",
                7..=8 => "involuntary",
                _ => "other",
            });
            let name = format!(
                "{} {}",
                FIRST[rng.gen_range(0..FIRST.len())],
                LAST[rng.gen_range(0..LAST.len())]
            );
            rows.push((
                employees::email.eq(format!("person{i}@demo.pulse.example")),
                employees::name.eq(name),
                employees::team_id.eq(Some(team)),
                employees::role.eq("member"),
                employees::hired_on.eq(hired_on),
                employees::left_on.eq(left_on),
                employees::leave_reason.eq(reason.map(String::from)),
                employees::regretted.eq(reason == Some("voluntary") && rng.gen_bool(0.4)),
                employees::locale.eq(if rng.gen_bool(0.2) { "fr" } else { "en" }),
                employees::created_at.eq(now),
                employees::updated_at.eq(now),
            ));
            people.push(Person {
                id: 0,
                team,
                hired_on,
                left_on,
            });
        }
        insert_all!(conn, employees::table, rows);
        let ids: Vec<i32> = employees::table
            .filter(employees::email.like("person%@demo.pulse.example"))
            .order(employees::id)
            .select(employees::id)
            .load(conn)?;
        for (p, id) in people.iter_mut().zip(ids) {
            p.id = id;
        }
        let memberships: Vec<_> = people
            .iter()
            .map(|p| {
                (
                    team_memberships::employee_id.eq(p.id),
                    team_memberships::team_id.eq(p.team),
                    team_memberships::started_on.eq(p.hired_on),
                    team_memberships::ended_on.eq(p.left_on),
                )
            })
            .collect();
        insert_all!(conn, team_memberships::table, memberships);
        report.employees = people.len();
        // Inserted in bulk, so the turnover facts are computed once from everyone.
        repo::turnover::rebuild(conn)?;

        // A current member of each team leads it and can sign in.
        for (team, _) in &leaf_teams {
            if let Some(lead) = people
                .iter()
                .find(|p| p.team == *team && p.left_on.is_none())
            {
                repo::teams::update(
                    conn,
                    *team,
                    &repo::teams::TeamChanges {
                        lead_id: Some(Some(lead.id)),
                        ..Default::default()
                    },
                )?;
                repo::employees::update(
                    conn,
                    lead.id,
                    &repo::employees::EmployeeChanges {
                        role: Some("lead".into()),
                        password_hash: Some(Some(password_hash.to_string())),
                        updated_at: Some(now),
                        ..Default::default()
                    },
                )?;
            }
        }

        report.one_on_ones = one_on_ones(conn, &people, &leaf_teams, now)?;

        // A weekly pulse with `weeks` rounds of history.
        let first = today - Duration::weeks(weeks as i64);
        let first_monday = first - Duration::days(first.weekday().num_days_from_monday() as i64);
        let questions = vec![
            Question {
                kind: QuestionKind::Enps,
                prompt: "How likely are you to recommend working here to a friend?".into(),
                options: vec![],
                required: true,
                driver: None,
            },
            Question {
                kind: QuestionKind::Scale,
                prompt: "I have what I need to do my job well".into(),
                options: vec![],
                required: true,
                driver: None,
            },
            Question {
                kind: QuestionKind::Scale,
                prompt: "My workload is sustainable".into(),
                options: vec![],
                required: true,
                driver: None,
            },
            Question {
                kind: QuestionKind::Choice,
                prompt: "Where did you work most this week?".into(),
                options: vec!["Office".into(), "Home".into(), "Both".into()],
                required: true,
                driver: None,
            },
            Question {
                kind: QuestionKind::Text,
                prompt: "Anything else you want HR to know?".into(),
                options: vec![],
                required: false,
                driver: None,
            },
        ];
        let survey_id = repo::surveys::insert(
            conn,
            &NewSurvey {
                title: "Weekly pulse".into(),
                intro: Some("Five questions, one minute. Answers are anonymous.".into()),
                enps_scale: EnpsScale::OneToTen.as_str().into(),
                cadence: "weekly".into(),
                starts_on: first_monday,
                send_time: "09:00".into(),
                timezone: "Europe/Paris".into(),
                open_days: 5,
                reminder_after_days: Some(2),
                min_group_size: 5,
                status: "active".into(),
                question_version: 1,
                scheduled_until: now,
                created_at: now,
                updated_at: now,
            },
        )?;
        repo::surveys::insert_questions(conn, survey_id, 1, &questions)?;
        let q_ids: Vec<i32> = repo::surveys::questions(conn, survey_id, 1)?
            .iter()
            .map(|q| q.id)
            .collect();
        let comments = [
            "Great week, thanks to the team.",
            "Too many meetings.",
            "We need more people on call.",
            "Onboarding was smooth.",
            "Unclear priorities this sprint.",
            "Loving the new office hours.",
        ];
        let tz: chrono_tz::Tz = "Europe/Paris".parse().expect("valid zone");
        let tree = crate::domain::disclosure::Tree::new(&repo::teams::edges(conn)?);
        for w in 0..weeks {
            let day = first_monday + Duration::weeks(w as i64);
            if day >= today {
                break;
            }
            let at = crate::domain::schedule::local_to_utc(
                day,
                NaiveTime::from_hms_opt(9, 0, 0).expect("valid"),
                tz,
            );
            let round_id = repo::rounds::insert(
                conn,
                &NewRound {
                    survey_id,
                    question_version: 1,
                    scheduled_for: at.naive_utc(),
                    opens_at: at.naive_utc(),
                    closes_at: (at + Duration::days(5)).naive_utc(),
                    reminder_at: Some((at + Duration::days(2)).naive_utc()),
                    reminded: true,
                    status: if at + Duration::days(5) <= Utc::now() {
                        "closed"
                    } else {
                        "open"
                    }
                    .into(),
                    invited: 0,
                    responded: 0,
                    enps_scale: "1-10".into(),
                    min_group_size: 5,
                    created_at: at.naive_utc(),
                },
            )?;
            report.rounds += 1;
            let mut stats: BTreeMap<i32, StatsRow> = BTreeMap::new();
            let mut resp_rows = Vec::new();
            let mut answer_rows = Vec::new();
            let season = (w as f64 / 8.0).sin() * 0.1;
            let invitees: Vec<_> = people
                .iter()
                .filter(|p| p.hired_on <= day && p.left_on.is_none_or(|l| l >= day))
                .collect();
            // As the scheduler does: answers are filed under the smallest team with enough invitees.
            let mut invited_by_team: BTreeMap<i32, u32> = BTreeMap::new();
            for p in &invitees {
                *invited_by_team.entry(p.team).or_default() += 1;
            }
            let filed_of = tree.filing(&invited_by_team, 5);
            let row = |team: i32| StatsRow {
                round_id,
                team_id: team,
                invited: 0,
                responses: 0,
                promoters: 0,
                passives: 0,
                detractors: 0,
            };
            for p in invitees {
                stats.entry(p.team).or_insert_with(|| row(p.team)).invited += 1;
                if !rng.gen_bool(0.72) {
                    continue;
                }
                let filed = filed_of[&p.team];
                let s = stats.entry(filed).or_insert_with(|| row(filed));
                let m = mood[&p.team] + season + if p.left_on.is_some() { -0.3 } else { 0.0 };
                let enps = (7.9 + m * 5.0 + rng.gen_range(-3.0..3.0_f64))
                    .round()
                    .clamp(1.0, 10.0) as i32;
                s.responses += 1;
                match classify(enps, EnpsScale::OneToTen) {
                    Some(Category::Promoter) => s.promoters += 1,
                    Some(Category::Passive) => s.passives += 1,
                    _ => s.detractors += 1,
                }
                let id = crate::tokens::random_token()[..32].to_string();
                let scale = |rng: &mut StdRng| {
                    (3.6 + m * 2.0 + rng.gen_range(-1.5..1.5_f64))
                        .round()
                        .clamp(1.0, 5.0) as i32
                };
                let a = |q: i32, score: Option<i32>, choice: Option<&str>, text: Option<&str>| {
                    AnswerRow {
                        response_id: id.clone(),
                        question_id: q,
                        score,
                        scale: (q == q_ids[0]).then(|| "1-10".to_string()),
                        choice: choice.map(String::from),
                        text: text.map(String::from),
                    }
                };
                answer_rows.push(a(q_ids[0], Some(enps), None, None));
                answer_rows.push(a(q_ids[1], Some(scale(&mut rng)), None, None));
                answer_rows.push(a(q_ids[2], Some(scale(&mut rng)), None, None));
                answer_rows.push(a(
                    q_ids[3],
                    None,
                    Some(["Office", "Home", "Both"][rng.gen_range(0..3)]),
                    None,
                ));
                if rng.gen_bool(0.08) {
                    answer_rows.push(a(
                        q_ids[4],
                        None,
                        None,
                        Some(comments[rng.gen_range(0..comments.len())]),
                    ));
                }
                resp_rows.push(ResponseRow {
                    id,
                    round_id,
                    team_id: (filed != repo::rounds::NO_TEAM).then_some(filed),
                    submitted_on: day + Duration::days(rng.gen_range(0..3)),
                });
            }
            let invited: i32 = stats.values().map(|s| s.invited).sum();
            let responded = insert_all!(conn, responses::table, resp_rows);
            report.responses += responded;
            report.answers += insert_all!(conn, answers::table, answer_rows);
            let stats: Vec<StatsRow> = stats.into_values().collect();
            insert_all!(conn, round_team_stats::table, stats);
            diesel::update(crate::db::schema::rounds::table.find(round_id))
                .set((
                    crate::db::schema::rounds::invited.eq(invited),
                    crate::db::schema::rounds::responded.eq(responded as i32),
                ))
                .execute(conn)?;
        }
        crate::library_demo::seed_rotating_pulse(conn, Utc::now(), weeks.min(12), seed)?;
        report.responses += crate::demo_lifecycle::seed(conn, today, now, seed)?;
        crate::conversations::demo::seed(conn, now)?;
        crate::repo::key_drivers::seed_demo(conn)?;
        Ok(report)
    })
}

/// Each lead manages their team and holds biweekly 1:1s with two of its
/// people: two months of past meetings with agendas, notes and an open
/// action item that carries over, and the next ones on the calendar.
fn one_on_ones(
    conn: &mut DbConnection,
    people: &[Person],
    teams: &[(i32, i32)],
    now: chrono::NaiveDateTime,
) -> anyhow::Result<usize> {
    use crate::repo::one_on_ones as one;
    let today = now.date();
    let start = today - Duration::weeks(8);
    let tz: chrono_tz::Tz = "Europe/Paris".parse().expect("valid zone");
    let mut series_count = 0;
    for (team, _) in teams {
        let Some(lead) = crate::db::schema::teams::table
            .find(team)
            .select(crate::db::schema::teams::lead_id)
            .first::<Option<i32>>(conn)?
        else {
            continue;
        };
        let members: Vec<&Person> = people
            .iter()
            .filter(|p| p.team == *team && p.id != lead && p.left_on.is_none())
            .collect();
        diesel::update(
            employees::table
                .filter(employees::id.eq_any(members.iter().map(|p| p.id).collect::<Vec<_>>())),
        )
        .set(employees::manager_id.eq(lead))
        .execute(conn)?;
        for report in members.iter().take(2) {
            let series_id = one::insert_series(
                conn,
                &one::NewSeries {
                    manager_id: lead,
                    report_id: report.id,
                    cadence: "biweekly".into(),
                    starts_on: start,
                    local_time: "10:00".into(),
                    timezone: "Europe/Paris".into(),
                    duration_minutes: 30,
                    reminder_hours_before: 24,
                    status: "active".into(),
                    materialized_until: now,
                    created_by: lead,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            series_count += 1;
            let mut last = None;
            let mut day = start;
            while day < today {
                let at = crate::domain::schedule::local_to_utc(
                    day,
                    NaiveTime::from_hms_opt(10, 0, 0).expect("valid"),
                    tz,
                )
                .naive_utc();
                let remind = crate::domain::one_on_one::remind_at(at, 24);
                one::insert_meeting_if_absent(
                    conn,
                    series_id,
                    at,
                    at + Duration::minutes(30),
                    remind,
                    now,
                )?;
                if let Some(m) = one::next_meeting(conn, series_id, at - Duration::seconds(1))? {
                    // Past meetings were announced at the time; no reminder now.
                    one::claim_announcement(conn, m.id, 0)?;
                    one::insert_agenda_item(conn, m.id, report.id, "Workload this sprint", now)?;
                    one::insert_agenda_item(conn, m.id, lead, "Feedback on the last release", now)?;
                    one::insert_note(
                        conn,
                        m.id,
                        lead,
                        one::NoteBody::Shared("Agreed to move one ticket to next sprint."),
                        now,
                    )?;
                    last = Some(m);
                }
                day += Duration::weeks(2);
            }
            if let Some(m) = last {
                let action = one::NewAction {
                    meeting_id: m.id,
                    series_id,
                    author_id: lead,
                    owner_id: report.id,
                    text: "Write up the on-call proposal",
                    due_on: Some(today + Duration::days(7)),
                };
                one::insert_action(conn, &action, now)?;
            }
            if let Some(series) = one::find_series(conn, series_id)? {
                crate::jobs::meetings::materialize(conn, &series, now.and_utc())?;
            }
        }
    }
    Ok(series_count)
}
