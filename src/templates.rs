//! The handlebars registry, with every template compiled into the binary so
//! `pulse` runs from any directory.

use handlebars::Handlebars;

const PAGES: &[(&str, &str)] = &[
    ("layout", include_str!("../templates/pages/layout.hbs")),
    ("home", include_str!("../templates/pages/home.hbs")),
    ("login", include_str!("../templates/pages/login.hbs")),
    ("setup", include_str!("../templates/pages/setup.hbs")),
    ("message", include_str!("../templates/pages/message.hbs")),
    ("answer", include_str!("../templates/pages/answer.hbs")),
    ("privacy", include_str!("../templates/pages/privacy.hbs")),
    ("logout", include_str!("../templates/pages/logout.hbs")),
    (
        "one_on_one_list",
        include_str!("../templates/pages/partials/one_on_one_list.hbs"),
    ),
    (
        "report_tabs",
        include_str!("../templates/pages/partials/report_tabs.hbs"),
    ),
    (
        "trend_table",
        include_str!("../templates/pages/partials/trend_table.hbs"),
    ),
    (
        "field",
        include_str!("../templates/pages/partials/field.hbs"),
    ),
    (
        "team_picker",
        include_str!("../templates/pages/partials/team_picker.hbs"),
    ),
    (
        "team_branch",
        include_str!("../templates/pages/partials/team_branch.hbs"),
    ),
    ("people", include_str!("../templates/pages/people.hbs")),
    ("person", include_str!("../templates/pages/person.hbs")),
    (
        "people_import",
        include_str!("../templates/pages/people_import.hbs"),
    ),
    ("teams", include_str!("../templates/pages/teams.hbs")),
    ("team", include_str!("../templates/pages/team.hbs")),
    ("surveys", include_str!("../templates/pages/surveys.hbs")),
    (
        "survey_new",
        include_str!("../templates/pages/survey_new.hbs"),
    ),
    ("survey", include_str!("../templates/pages/survey.hbs")),
    (
        "questions",
        include_str!("../templates/pages/questions.hbs"),
    ),
    ("question", include_str!("../templates/pages/question.hbs")),
    ("round", include_str!("../templates/pages/round.hbs")),
    (
        "report_enps",
        include_str!("../templates/pages/report_enps.hbs"),
    ),
    (
        "report_turnover",
        include_str!("../templates/pages/report_turnover.hbs"),
    ),
    (
        "report_drivers",
        include_str!("../templates/pages/report_drivers.hbs"),
    ),
    (
        "account_setup",
        include_str!("../templates/pages/account_setup.hbs"),
    ),
    (
        "one_on_ones",
        include_str!("../templates/pages/one_on_ones.hbs"),
    ),
    ("meeting", include_str!("../templates/pages/meeting.hbs")),
    (
        "one_on_one_new",
        include_str!("../templates/pages/one_on_one_new.hbs"),
    ),
    (
        "one_on_one_overview",
        include_str!("../templates/pages/one_on_one_overview.hbs"),
    ),
    (
        "account_notes",
        include_str!("../templates/pages/account_notes.hbs"),
    ),
    ("audit", include_str!("../templates/pages/audit.hbs")),
    ("webhooks", include_str!("../templates/pages/webhooks.hbs")),
    (
        "digest_section",
        include_str!("../templates/pages/partials/digest_section.hbs"),
    ),
    (
        "account_digest",
        include_str!("../templates/pages/account_digest.hbs"),
    ),
    (
        "lifecycle_cohorts",
        include_str!("../templates/pages/lifecycle_cohorts.hbs"),
    ),
    (
        "exit_reasons",
        include_str!("../templates/pages/partials/exit_reasons.hbs"),
    ),
    (
        "digest_unsubscribe",
        include_str!("../templates/pages/digest_unsubscribe.hbs"),
    ),
    (
        "scim_tokens",
        include_str!("../templates/pages/scim_tokens.hbs"),
    ),
];

pub fn registry() -> anyhow::Result<Handlebars<'static>> {
    let mut hb = Handlebars::new();
    // A typo in a template should fail loudly in tests, not render blanks.
    hb.set_strict_mode(true);
    for (name, source) in PAGES
        .iter()
        .chain(crate::routes::pages::conversation::TEMPLATES)
    {
        hb.register_template_string(name, *source)?;
    }
    Ok(hb)
}
