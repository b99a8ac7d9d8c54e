//! The question library: the questions Pulse ships (our own wording, English and French) and the rules for HR's own.

use crate::domain::driver::Driver;
use crate::domain::survey::{parse_questions, QuestionInput, QuestionKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A question Pulse ships. Its `key` never changes, so start-up seeding adds
/// only what is missing and HR's edits or retirements of it are kept.
#[derive(Debug, Clone, Copy)]
pub struct Shipped {
    pub key: &'static str,
    pub kind: QuestionKind,
    pub driver: Option<Driver>,
    pub en: &'static str,
    pub fr: &'static str,
    /// For choice questions: (English, French) per option.
    pub options: &'static [(&'static str, &'static str)],
}

const fn scale(key: &'static str, driver: Driver, en: &'static str, fr: &'static str) -> Shipped {
    Shipped {
        key,
        kind: QuestionKind::Scale,
        driver: Some(driver),
        en,
        fr,
        options: &[],
    }
}

const fn text(key: &'static str, en: &'static str, fr: &'static str) -> Shipped {
    Shipped {
        key,
        kind: QuestionKind::Text,
        driver: None,
        en,
        fr,
        options: &[],
    }
}

use Driver::*;

/// Written for Pulse: four questions per driver, the stay-intent outcome,
/// eNPS, and the few that the onboarding and exit templates need.
pub const SHIPPED: &[Shipped] = &[
    Shipped {
        key: "enps.recommend",
        kind: QuestionKind::Enps,
        driver: None,
        en: "How likely are you to recommend this company as a place to work?",
        fr: "Quelle est la probabilité que vous recommandiez cette entreprise comme lieu de travail ?",
        options: &[],
    },
    scale("recognition.noticed", Recognition, "When I do good work, someone notices.", "Quand je fais du bon travail, quelqu'un le remarque."),
    scale("recognition.thanked", Recognition, "In the last month I was thanked for something specific I did.", "Au cours du dernier mois, j'ai reçu des remerciements pour une chose précise que j'ai faite."),
    scale("recognition.credit", Recognition, "Credit for results here goes to the people who did the work.", "Ici, le mérite des résultats revient à celles et ceux qui ont fait le travail."),
    scale("recognition.matters", Recognition, "I feel my contribution matters to the team.", "Je sens que ma contribution compte pour l'équipe."),
    scale("growth.learning", Growth, "I am learning things that will matter for my future.", "J'apprends des choses qui compteront pour mon avenir."),
    scale("growth.path", Growth, "I can see where my career could go from here.", "Je vois comment ma carrière peut évoluer à partir d'ici."),
    scale("growth.stretch", Growth, "My work stretches me in a good way.", "Mon travail me pousse à progresser, dans le bon sens."),
    scale("growth.support", Growth, "I get the time and support I need to build new skills.", "J'ai le temps et le soutien nécessaires pour développer de nouvelles compétences."),
    scale("manager.feedback", Manager, "My manager gives me feedback that helps me improve.", "Mon manager me fait des retours qui m'aident à progresser."),
    scale("manager.cares", Manager, "My manager cares about me as a person.", "Mon manager se soucie de moi en tant que personne."),
    scale("manager.reachable", Manager, "I can reach my manager when I need help.", "Je peux joindre mon manager quand j'ai besoin d'aide."),
    scale("manager.fair", Manager, "I trust my manager to be fair with me.", "Je fais confiance à mon manager pour être juste avec moi."),
    scale("wellbeing.workload", Wellbeing, "My workload is manageable in most weeks.", "Ma charge de travail est gérable la plupart des semaines."),
    scale("wellbeing.switch_off", Wellbeing, "I can switch off from work outside working hours.", "Je peux décrocher du travail en dehors des heures de travail."),
    scale("wellbeing.energy", Wellbeing, "I end most working days with energy left for my life outside work.", "Je finis la plupart de mes journées avec de l'énergie pour ma vie en dehors du travail."),
    scale("wellbeing.speak_up", Wellbeing, "I can say I am overloaded without it counting against me.", "Je peux signaler une surcharge sans que cela me soit reproché."),
    scale("alignment.goals", Alignment, "I understand what the company is trying to achieve this year.", "Je comprends ce que l'entreprise cherche à accomplir cette année."),
    scale("alignment.contribution", Alignment, "I see how my work contributes to the company's goals.", "Je vois comment mon travail contribue aux objectifs de l'entreprise."),
    scale("alignment.priorities", Alignment, "My team agrees on what matters most right now.", "Mon équipe est d'accord sur ce qui compte le plus en ce moment."),
    scale("alignment.reasons", Alignment, "Leadership explains the reasons behind important decisions.", "La direction explique les raisons des décisions importantes."),
    scale("autonomy.how", Autonomy, "I decide how to go about my own work.", "Je décide de la manière d'organiser mon propre travail."),
    scale("autonomy.trusted", Autonomy, "I am trusted to make decisions without asking permission for everything.", "On me fait confiance pour décider sans demander la permission pour tout."),
    scale("autonomy.when_where", Autonomy, "I have a say in when and where I work.", "J'ai mon mot à dire sur le moment et le lieu où je travaille."),
    scale("autonomy.ideas", Autonomy, "I can try out new ideas in my work.", "Je peux essayer de nouvelles idées dans mon travail."),
    scale("peers.help", Peers, "People on my team help each other without being asked.", "Dans mon équipe, on s'entraide sans avoir besoin de le demander."),
    scale("peers.belong", Peers, "I feel I belong in my team.", "Je me sens à ma place dans mon équipe."),
    scale("peers.disagree", Peers, "We can disagree openly in my team and still work well together.", "Dans mon équipe, on peut être en désaccord ouvertement et bien travailler ensemble."),
    scale("peers.other_teams", Peers, "Working with other teams is straightforward.", "Travailler avec les autres équipes se passe simplement."),
    scale("environment.tools", Environment, "I have the tools and equipment I need to do my job well.", "J'ai les outils et l'équipement nécessaires pour bien faire mon travail."),
    scale("environment.processes", Environment, "Our processes help me rather than slow me down.", "Nos processus m'aident plutôt qu'ils ne me ralentissent."),
    scale("environment.information", Environment, "I can find the information I need without chasing people.", "Je trouve les informations dont j'ai besoin sans devoir les réclamer à tout le monde."),
    scale("environment.focus", Environment, "My workspace, at the office or at home, lets me focus.", "Mon espace de travail, au bureau ou chez moi, me permet de me concentrer."),
    scale("pay.fair", Pay, "My pay is fair for the work I do.", "Ma rémunération est juste pour le travail que je fais."),
    scale("pay.market", Pay, "My pay compares well with similar jobs elsewhere.", "Ma rémunération se compare bien à celle de postes similaires ailleurs."),
    scale("pay.clear", Pay, "I understand how pay and raises are decided here.", "Je comprends comment la rémunération et les augmentations sont décidées ici."),
    scale("pay.benefits", Pay, "Our benefits meet my needs.", "Nos avantages sociaux répondent à mes besoins."),
    scale("satisfaction.overall", Satisfaction, "Overall, I enjoy working here.", "Dans l'ensemble, je me plais à travailler ici."),
    scale("satisfaction.proud", Satisfaction, "I am glad to tell people where I work.", "J'ai plaisir à dire où je travaille."),
    scale("satisfaction.meaning", Satisfaction, "My work feels meaningful to me.", "Mon travail a du sens pour moi."),
    scale("satisfaction.look_forward", Satisfaction, "I look forward to most working days.", "J'aborde la plupart de mes journées de travail avec envie."),
    scale("stay_intent.two_years", StayIntent, "I see myself working here in two years.", "Je me vois travailler ici dans deux ans."),
    text("comment.anything_else", "Is there anything else you would like to tell us?", "Y a-t-il autre chose que vous aimeriez nous dire ?"),
    scale("onboarding.welcome", Peers, "I felt welcome from my first day.", "Je me suis senti·e bienvenu·e dès le premier jour."),
    scale("onboarding.ready", Environment, "I had what I needed to be productive in my first weeks.", "J'avais ce qu'il fallait pour être efficace dès mes premières semaines."),
    scale("onboarding.expectations", Alignment, "The job is what I expected when I accepted the offer.", "Le poste correspond à ce que j'attendais en acceptant l'offre."),
    text("onboarding.easier", "What would have made your first weeks easier?", "Qu'est-ce qui aurait facilité vos premières semaines ?"),
    Shipped {
        key: "exit.reason",
        kind: QuestionKind::Choice,
        driver: None,
        en: "What is the main reason you are leaving?",
        fr: "Quelle est la principale raison de votre départ ?",
        options: &[
            ("Pay and benefits", "Rémunération et avantages"),
            ("Career growth", "Évolution de carrière"),
            ("My manager", "Mon manager"),
            ("Workload", "Charge de travail"),
            ("The work itself", "Le travail lui-même"),
            ("Personal reasons", "Raisons personnelles"),
            ("Other", "Autre"),
        ],
    },
    scale("exit.return", Satisfaction, "I would consider working here again one day.", "J'envisagerais de retravailler ici un jour."),
    text("exit.keep", "What could we have done to keep you?", "Qu'aurions-nous pu faire pour vous garder ?"),
];

pub fn shipped(key: &str) -> Option<&'static Shipped> {
    SHIPPED.iter().find(|s| s.key == key)
}

/// A wording in both languages Pulse speaks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Bilingual<T> {
    pub en: T,
    pub fr: T,
}

/// A library question as HR sends it to add one.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LibraryInput {
    /// `enps`, `scale`, `choice` or `text`.
    #[schema(pattern = "^(enps|scale|choice|text)$")]
    pub kind: String,
    /// For scale questions: the driver it measures.
    #[serde(default)]
    pub driver: Option<String>,
    pub prompt: Bilingual<String>,
    /// For choice questions: the same options in each language, in the same order.
    #[serde(default)]
    pub options: Option<Bilingual<Vec<String>>>,
}

/// A checked library question (one version of its wording).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryQuestion {
    pub kind: QuestionKind,
    pub driver: Option<Driver>,
    pub prompt: Bilingual<String>,
    pub options: Bilingual<Vec<String>>,
}

impl LibraryQuestion {
    pub fn of_shipped(s: &Shipped) -> Self {
        Self {
            kind: s.kind,
            driver: s.driver,
            prompt: Bilingual {
                en: s.en.into(),
                fr: s.fr.into(),
            },
            options: Bilingual {
                en: s.options.iter().map(|o| o.0.to_string()).collect(),
                fr: s.options.iter().map(|o| o.1.to_string()).collect(),
            },
        }
    }

    /// As a survey question in `lang` ("fr", else English).
    pub fn survey_input(&self, lang: &str) -> QuestionInput {
        let (prompt, options) = if lang == "fr" {
            (&self.prompt.fr, &self.options.fr)
        } else {
            (&self.prompt.en, &self.options.en)
        };
        QuestionInput {
            kind: self.kind.as_str().into(),
            prompt: prompt.clone(),
            options: (self.kind == QuestionKind::Choice).then(|| options.clone()),
            required: None,
            driver: self.driver.map(|d| d.key().to_string()),
        }
    }
}

/// Checks a library question with the survey rules, once per language, naming
/// bad fields `prompt.en`, `options.fr`, `driver`...
pub fn parse(input: &LibraryInput) -> Result<LibraryQuestion, BTreeMap<String, String>> {
    let mut fields = BTreeMap::new();
    let options = input.options.clone().unwrap_or_default();
    let as_survey = |prompt: &str, options: &[String]| QuestionInput {
        kind: input.kind.clone(),
        prompt: prompt.into(),
        options: (!options.is_empty()).then(|| options.to_vec()),
        required: None,
        driver: input.driver.clone(),
    };
    let mut checked = vec![];
    for (lang, prompt, opts) in [
        ("en", &input.prompt.en, &options.en),
        ("fr", &input.prompt.fr, &options.fr),
    ] {
        let mut errors = BTreeMap::new();
        checked.extend(parse_questions(&[as_survey(prompt, opts)], &mut errors));
        for (k, why) in errors {
            let field = k.trim_start_matches("questions[0].");
            let field = match field {
                "prompt" | "options" => format!("{field}.{lang}"),
                other => other.to_string(),
            };
            fields.entry(field).or_insert(why);
        }
    }
    if options.en.len() != options.fr.len() {
        fields.insert(
            "options.fr".into(),
            format!(
                "give the same {} options in French as in English",
                options.en.len()
            ),
        );
    }
    match (checked.as_slice(), fields.is_empty()) {
        ([en, fr], true) => Ok(LibraryQuestion {
            kind: en.kind,
            driver: en.driver,
            prompt: Bilingual {
                en: en.prompt.clone(),
                fr: fr.prompt.clone(),
            },
            options: Bilingual {
                en: en.options.clone(),
                fr: fr.options.clone(),
            },
        }),
        _ => Err(fields),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_shipped_library_covers_every_driver_in_both_languages() {
        let keys: HashSet<&str> = SHIPPED.iter().map(|s| s.key).collect();
        assert_eq!(keys.len(), SHIPPED.len(), "keys are unique");
        for d in Driver::ALL {
            let n = SHIPPED
                .iter()
                .filter(|s| s.driver == Some(d) && s.key.starts_with(d.key()))
                .count();
            let want = if d.is_outcome() { 1 } else { 4 };
            assert_eq!(n, want, "{}", d.key());
        }
        assert!(SHIPPED.iter().any(|s| s.kind == QuestionKind::Enps));
        for s in SHIPPED {
            let input = LibraryInput {
                kind: s.kind.as_str().into(),
                driver: s.driver.map(|d| d.key().into()),
                prompt: Bilingual {
                    en: s.en.into(),
                    fr: s.fr.into(),
                },
                options: (!s.options.is_empty()).then(|| Bilingual {
                    en: s.options.iter().map(|o| o.0.into()).collect(),
                    fr: s.options.iter().map(|o| o.1.into()).collect(),
                }),
            };
            assert_eq!(
                parse(&input),
                Ok(LibraryQuestion::of_shipped(s)),
                "{}",
                s.key
            );
            assert_ne!(s.en, s.fr, "{} is translated", s.key);
        }
    }

    #[test]
    fn bad_library_questions_name_the_field_and_language() {
        let input = LibraryInput {
            kind: "choice".into(),
            driver: Some("growth".into()),
            prompt: Bilingual {
                en: "Pick one".into(),
                fr: " ".into(),
            },
            options: Some(Bilingual {
                en: vec!["A".into(), "B".into()],
                fr: vec!["A".into()],
            }),
        };
        let errors = parse(&input).unwrap_err();
        assert!(errors.contains_key("prompt.fr"), "{errors:?}");
        assert!(errors.contains_key("options.fr"), "{errors:?}");
        assert!(errors["driver"].contains("only scale"), "{errors:?}");
        assert!(!errors.contains_key("prompt.en"));
    }
}
