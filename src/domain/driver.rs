//! Engagement drivers: the themes that library questions belong to, named in each language Pulse speaks.

use serde::{Deserialize, Serialize};

/// What a `scale` question measures. eNPS is the outcome the drivers are
/// ranked against, so it is not one of them; `StayIntent` is an outcome too
/// ("I see myself working here in two years") but is reported beside the
/// drivers, so it carries a key like them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Driver {
    Recognition,
    Growth,
    Manager,
    Wellbeing,
    Alignment,
    Autonomy,
    Peers,
    Environment,
    Pay,
    Satisfaction,
    StayIntent,
}

impl Driver {
    pub const ALL: [Driver; 11] = [
        Driver::Recognition,
        Driver::Growth,
        Driver::Manager,
        Driver::Wellbeing,
        Driver::Alignment,
        Driver::Autonomy,
        Driver::Peers,
        Driver::Environment,
        Driver::Pay,
        Driver::Satisfaction,
        Driver::StayIntent,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Driver::Recognition => "recognition",
            Driver::Growth => "growth",
            Driver::Manager => "manager",
            Driver::Wellbeing => "wellbeing",
            Driver::Alignment => "alignment",
            Driver::Autonomy => "autonomy",
            Driver::Peers => "peers",
            Driver::Environment => "environment",
            Driver::Pay => "pay",
            Driver::Satisfaction => "satisfaction",
            Driver::StayIntent => "stay_intent",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|d| d.key() == s).ok_or_else(|| {
            let keys: Vec<&str> = Self::ALL.iter().map(|d| d.key()).collect();
            format!("`{s}` is not a driver: use one of {}", keys.join(", "))
        })
    }

    /// The driver's name in `lang` ("en" or "fr"; anything else gets English).
    pub fn name(self, lang: &str) -> &'static str {
        let (en, fr) = match self {
            Driver::Recognition => ("Recognition", "Reconnaissance"),
            Driver::Growth => ("Growth", "Développement"),
            Driver::Manager => ("Relationship with manager", "Relation avec le manager"),
            Driver::Wellbeing => ("Workload and wellbeing", "Charge de travail et bien-être"),
            Driver::Alignment => ("Alignment with goals", "Alignement sur les objectifs"),
            Driver::Autonomy => ("Autonomy", "Autonomie"),
            Driver::Peers => ("Relationships with peers", "Relations entre collègues"),
            Driver::Environment => ("Tools and environment", "Outils et environnement"),
            Driver::Pay => ("Fairness of pay", "Équité de la rémunération"),
            Driver::Satisfaction => ("Satisfaction", "Satisfaction"),
            Driver::StayIntent => ("Intent to stay", "Intention de rester"),
        };
        if lang == "fr" {
            fr
        } else {
            en
        }
    }

    /// Outcomes are reported beside the drivers, not ranked among them.
    pub fn is_outcome(self) -> bool {
        self == Driver::StayIntent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses_back_to_its_driver() {
        for d in Driver::ALL {
            assert_eq!(Driver::parse(d.key()), Ok(d));
            assert_ne!(d.name("en"), "");
            assert_ne!(d.name("fr"), "");
        }
    }

    #[test]
    fn an_unknown_key_names_the_ones_that_exist() {
        let err = Driver::parse("vibes").unwrap_err();
        assert!(
            err.contains("recognition") && err.contains("stay_intent"),
            "{err}"
        );
    }
}
