//! Survey templates: a title, library questions by key and schedule defaults that a new survey starts from.

use serde::Serialize;

/// When a lifecycle survey goes out instead of a calendar schedule. The
/// templates name theirs so a survey built from them can carry it once
/// surveys take a `trigger`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TemplateTrigger {
    Onboarding { days_after_hire: &'static [u32] },
    Exit,
}

#[derive(Debug, Clone, Copy)]
pub struct Template {
    pub key: &'static str,
    pub title_en: &'static str,
    pub title_fr: &'static str,
    pub intro_en: &'static str,
    pub intro_fr: &'static str,
    /// Library question keys, in order; `*` takes every active question of
    /// the library measuring a driver (`scale` with a driver), in library order.
    pub questions: &'static [&'static str],
    pub cadence: &'static str,
    pub open_days: i32,
    pub reminder_after_days: Option<i32>,
    /// Questions each person gets a round, when the survey rotates.
    pub per_round: Option<i32>,
    pub trigger: Option<TemplateTrigger>,
}

/// Every driver question of the library.
pub const ALL_DRIVERS: &str = "*";

pub const TEMPLATES: &[Template] = &[
    Template {
        key: "weekly-engagement",
        title_en: "Weekly engagement pulse",
        title_fr: "Pulse d'engagement hebdomadaire",
        intro_en: "Two minutes: a few questions that change every week, and the one we always ask.",
        intro_fr: "Deux minutes : quelques questions qui changent chaque semaine, et celle que nous posons toujours.",
        questions: &["enps.recommend", ALL_DRIVERS, "comment.anything_else"],
        cadence: "weekly",
        open_days: 5,
        reminder_after_days: Some(2),
        per_round: Some(3),
        trigger: None,
    },
    Template {
        key: "quarterly-enps",
        title_en: "Quarterly eNPS",
        title_fr: "eNPS trimestriel",
        intro_en: "Once a quarter: would you recommend working here, and why?",
        intro_fr: "Une fois par trimestre : recommanderiez-vous de travailler ici, et pourquoi ?",
        questions: &[
            "enps.recommend",
            "stay_intent.two_years",
            "satisfaction.overall",
            "comment.anything_else",
        ],
        cadence: "quarterly",
        open_days: 14,
        reminder_after_days: Some(7),
        per_round: None,
        trigger: None,
    },
    Template {
        key: "onboarding",
        title_en: "Onboarding check-in",
        title_fr: "Point d'intégration",
        intro_en: "How are your first weeks going? Your answers help us welcome the next people better.",
        intro_fr: "Comment se passent vos premières semaines ? Vos réponses nous aident à mieux accueillir les prochaines personnes.",
        questions: &[
            "onboarding.welcome",
            "onboarding.ready",
            "onboarding.expectations",
            "manager.reachable",
            "growth.learning",
            "enps.recommend",
            "onboarding.easier",
        ],
        cadence: "once",
        open_days: 14,
        reminder_after_days: Some(7),
        per_round: None,
        trigger: Some(TemplateTrigger::Onboarding {
            days_after_hire: &[30, 60, 90],
        }),
    },
    Template {
        key: "exit",
        title_en: "Exit survey",
        title_fr: "Questionnaire de départ",
        intro_en: "Thank you for your time with us. Your answers are anonymous and help the people who stay.",
        intro_fr: "Merci pour le temps passé avec nous. Vos réponses sont anonymes et aident celles et ceux qui restent.",
        questions: &[
            "exit.reason",
            "manager.fair",
            "growth.path",
            "pay.fair",
            "exit.return",
            "enps.recommend",
            "exit.keep",
        ],
        cadence: "once",
        open_days: 14,
        reminder_after_days: None,
        per_round: None,
        trigger: Some(TemplateTrigger::Exit),
    },
];

pub fn find(key: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.key == key)
}

/// `Err` names the templates there are.
pub fn parse(key: &str) -> Result<&'static Template, String> {
    find(key).ok_or_else(|| {
        let keys: Vec<&str> = TEMPLATES.iter().map(|t| t.key).collect();
        format!("`{key}` is not a template: use one of {}", keys.join(", "))
    })
}

impl Template {
    pub fn title(&self, lang: &str) -> &'static str {
        if lang == "fr" {
            self.title_fr
        } else {
            self.title_en
        }
    }

    pub fn intro(&self, lang: &str) -> &'static str {
        if lang == "fr" {
            self.intro_fr
        } else {
            self.intro_en
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::library::shipped;

    #[test]
    fn templates_name_shipped_questions_and_the_four_keys() {
        for key in ["weekly-engagement", "quarterly-enps", "onboarding", "exit"] {
            let t = parse(key).unwrap();
            for q in t.questions.iter().filter(|q| **q != ALL_DRIVERS) {
                assert!(shipped(q).is_some(), "{key}: {q}");
            }
            assert!(t.questions.len() <= 10);
        }
        assert!(parse("daily").unwrap_err().contains("weekly-engagement"));
    }
}
