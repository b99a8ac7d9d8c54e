//! Many writers at once on one database: imports, answers, invitations and
//! scheduler ticks side by side never fail with a lock error (a 500).

use crate::helpers::TestApp;
use crate::surveys::{create_survey, link_path, people, read_email, weekly};
use futures_util::future::join_all;
use serde_json::{json, Value};

async fn concurrent_writers_never_fail(app: TestApp) {
    let admin = app.admin_token().await;
    let (team, mut ids) = people(&app, &admin).await;
    for i in 0..9 {
        let body = json!({"email": format!("x{i}@example.com"), "name": format!("X {i}"),
                          "hired_on": "2024-01-01", "team_id": team});
        ids.push(app.employee(&admin, body).await);
    }
    let (survey, q) = create_survey(&app, &admin, weekly(team)).await;
    let res = app
        .post(
            &format!("/api/v1/surveys/{}/rounds", survey["id"]),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);
    app.tick(&chrono::Utc::now().to_rfc3339()).await;
    let tokens: Vec<String> = app
        .emails()
        .iter()
        .map(|m| read_email(m).2)
        .filter(|text| text.contains("/s/"))
        .map(|text| link_path(&text).trim_start_matches("/s/").to_string())
        .collect();
    assert_eq!(tokens.len(), 12);

    let invitations = (0..4).map(|lane| {
        let (app, admin, ids) = (&app, &admin, &ids);
        async move {
            let mut failures = vec![];
            for n in 0..15 {
                let id = ids[(lane + n) % ids.len()];
                let res = app
                    .post(
                        &format!("/api/v1/employees/{id}/invite"),
                        Some(admin),
                        json!({}),
                    )
                    .await;
                if res.status() != 202 {
                    failures.push(format!("invite {id}: {}", res.status()));
                }
            }
            failures
        }
    });
    let imports = async {
        let mut failures = vec![];
        for round in 0..6 {
            let mut file = String::from("email,name,team,role\n");
            for k in 0..20 {
                file.push_str(&format!(
                    "imp{k}@example.com,Imported {k} v{round},Imported/Group {},member\n",
                    (k + round) % 4
                ));
            }
            let res = app.post_csv(&admin, &file).await;
            if res.status() != 200 {
                failures.push(format!("import {round}: {}", res.status()));
            }
        }
        failures
    };
    let answers = async {
        let (app, q) = (&app, &q);
        let submits = tokens.iter().map(|token| async move {
            let body = json!({"token": token, "answers": [
                {"question_id": q[0], "score": 9}, {"question_id": q[1], "score": 4},
                {"question_id": q[2], "choice": "Home"}, {"question_id": q[3], "text": "fine"}]});
            let res = app.post("/api/v1/responses", None, body).await;
            (res.status() != 201).then(|| format!("answer: {}", res.status()))
        });
        join_all(submits)
            .await
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
    };
    let ticks = async {
        let transport = pulse::mail::Transport::Files(app.mail_dir.clone());
        let mut failures = vec![];
        for _ in 0..6 {
            let now = chrono::Utc::now();
            if let Err(e) =
                pulse::jobs::tick(&app.state.pool, &app.state.mailing, &transport, now).await
            {
                failures.push(format!("tick: {e:#}"));
            }
        }
        failures
    };
    let (invited, imported, answered, ticked) =
        tokio::join!(join_all(invitations), imports, answers, ticks);
    let failures: Vec<String> = invited
        .into_iter()
        .flatten()
        .chain(imported)
        .chain(answered)
        .chain(ticked)
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");

    let rounds: Value = app
        .get(
            &format!("/api/v1/surveys/{}/rounds", survey["id"]),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rounds[0]["responded"], 12, "every answer was stored");
}

crate::on_both_engines!(concurrent_writers_never_fail);
