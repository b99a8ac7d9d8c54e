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
    (
        "account_setup",
        include_str!("../templates/pages/account_setup.hbs"),
    ),
    (
        "one_on_ones",
        include_str!("../templates/pages/one_on_ones.hbs"),
    ),
    ("meeting", include_str!("../templates/pages/meeting.hbs")),
];

pub fn registry() -> anyhow::Result<Handlebars<'static>> {
    let mut hb = Handlebars::new();
    // A typo in a template should fail loudly in tests, not render blanks.
    hb.set_strict_mode(true);
    for (name, source) in PAGES {
        hb.register_template_string(name, *source)?;
    }
    Ok(hb)
}
