use super::*;
use crate::domain::enps::Counts;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A counter where everyone who answered gave eNPS: `p` promoters, `pa` passives, `de` detractors.
fn counter(round_id: i32, team_id: i32, invited: u32, p: u32, pa: u32, de: u32) -> Counter {
    Counter {
        round_id,
        day: d("2026-01-05"),
        scale: "1-10".into(),
        min_group_size: 5,
        team_id,
        invited,
        responses: p + pa + de,
        counts: Counts {
            promoters: p,
            passives: pa,
            detractors: de,
        },
    }
}

/// Company → Eng(1) → Web(2), Mobile(3); Sales(4).
fn tree() -> Tree {
    Tree::new(&[(1, None), (2, Some(1)), (3, Some(1)), (4, None)])
}

fn disclose(cs: &[Counter], round: i32) -> RoundCells {
    let refs: Vec<&Counter> = cs.iter().collect();
    RoundCells::disclose(round, d("2026-01-05"), &refs, &tree(), 5)
}

#[test]
fn a_small_team_is_hidden_and_so_is_what_would_give_it_away() {
    // Web 8 answers, Mobile 4: Mobile is too few; Eng − Web would give Mobile,
    // so Web goes too (it is the only other part of Eng). Sales 6, the company 18.
    let cs = [
        counter(1, 2, 9, 5, 2, 1),
        counter(1, 3, 5, 2, 1, 1),
        counter(1, 4, 7, 3, 2, 1),
    ];
    let r = disclose(&cs, 1);
    assert_eq!(r.cell(3), Err(Reason::TooFew));
    assert_eq!(r.cell(2), Err(Reason::Derivable));
    let eng = r.cell(1).unwrap();
    assert_eq!(
        (eng.invited, eng.responses, eng.counts.promoters),
        (14, 12, 7)
    );
    assert_eq!(r.cell(COMPANY).unwrap().responses, 18);
    assert_eq!(r.cell(4).unwrap().responses, 6);
}

#[test]
fn views_add_up_shown_cells_only_and_say_what_they_left_out() {
    // Round 1: Mobile has 6 answers; round 2: Mobile has 2 (and Web with it hides).
    let cs = [
        counter(1, 2, 9, 5, 2, 1),
        counter(1, 3, 7, 4, 1, 1),
        counter(2, 2, 9, 5, 2, 1),
        counter(2, 3, 7, 1, 0, 1),
    ];
    let refs: Vec<&Counter> = cs.iter().collect();
    let t = tree();
    let r1 = RoundCells::disclose(1, d("2026-01-05"), &refs, &t, 5);
    let r2 = RoundCells::disclose(2, d("2026-01-12"), &refs, &t, 5);
    let mobile = sum([&r1, &r2], 3);
    assert_eq!(mobile.cells, vec![(1, 3)]);
    assert_eq!(mobile.totals.responses, 6);
    assert_eq!(
        mobile.left_out,
        LeftOut {
            too_few: 1,
            derivable: 0
        }
    );
    // The month's Mobile figure is round 1's alone: it never mixes in round 2's two answers.
    let Shown::Figures(f) = Shown::of(&mobile) else {
        panic!("round 1 shows Mobile")
    };
    assert_eq!((f.responses, f.promoters, f.rounds), (6, 4, 1));
    assert_eq!(f.left_out, Some(mobile.left_out));
    // Web is hidden in round 2 to protect Mobile; Eng shows both rounds.
    assert_eq!(sum([&r1, &r2], 2).left_out.derivable, 1);
    assert_eq!(sum([&r1, &r2], 1).cells.len(), 2);
    // Sales had nobody invited: neither round is part of its views.
    assert_eq!(sum([&r1, &r2], 4), Sum::default());
}

#[test]
fn one_person_answering_many_rounds_is_never_shown() {
    // Sales is one person who answers every week; the rest of the company is large.
    let mut cs = vec![];
    for round in 1..=12 {
        cs.push(counter(round, 4, 1, 1, 0, 0));
        cs.push(counter(round, 2, 20, 10, 5, 5));
    }
    let refs: Vec<&Counter> = cs.iter().collect();
    let t = tree();
    let rounds: Vec<RoundCells> = (1..=12)
        .map(|r| RoundCells::disclose(r, d("2026-01-05"), &refs, &t, 5))
        .collect();
    let sales = sum(&rounds, 4);
    assert!(sales.cells.is_empty());
    assert_eq!(
        Shown::of(&sales),
        Shown::Suppressed {
            suppressed: true,
            reason: Reason::TooFew,
            left_out: LeftOut {
                too_few: 12,
                derivable: 0
            }
        }
    );
    // And the company minus Eng cannot give Sales either: the company is hidden too,
    // or Eng is; never both shown.
    for r in &rounds {
        assert!(r.cell(COMPANY).is_err() || r.cell(1).is_err());
    }
}

#[test]
fn enps_answers_need_the_threshold_too() {
    // Six people answered, but only two gave the (optional) eNPS question a score.
    let mut c = counter(1, 2, 9, 1, 1, 0);
    c.responses = 6;
    let mut big = counter(1, 4, 30, 10, 5, 5);
    big.responses = 20;
    let cs = [c, big];
    let r = disclose(&cs, 1);
    assert_eq!(r.cell(2), Err(Reason::TooFew));
    // A round without an eNPS question shows participation alone.
    let mut plain = counter(1, 2, 9, 0, 0, 0);
    plain.responses = 6;
    let cs = [plain];
    let r = disclose(&cs, 1);
    assert_eq!(r.cell(2).unwrap().responses, 6);
}

#[test]
fn answers_are_filed_under_the_smallest_team_that_hides_them() {
    let t = tree();
    // Invited per team: Web 2, Mobile 6, Sales 1, no team 4.
    let invited = BTreeMap::from([(2, 2), (3, 6), (4, 1), (0, 4)]);
    let filed = t.filing(&invited, 5);
    assert_eq!(filed[&3], 3);
    // Web (2) is too small; Eng (8) holds it.
    assert_eq!(filed[&2], 1);
    // Sales (1) has no parent but the company; no team stays with the company.
    assert_eq!((filed[&4], filed[&0]), (NO_TEAM, NO_TEAM));
    // Every group's subtree: Eng 8, the company 13.
    let sums = t.subtree_sums(&invited);
    assert_eq!((sums[&1], sums[&COMPANY]), (8, 13));
}

#[test]
fn disclose_all_uses_each_rounds_own_threshold() {
    let mut a = counter(1, 2, 5, 3, 0, 0);
    a.min_group_size = 3;
    let mut b = counter(2, 2, 5, 3, 0, 0);
    b.min_group_size = 5;
    let rounds = disclose_all(&[a, b], &tree());
    assert!(rounds[0].cell(2).is_ok());
    assert_eq!(rounds[1].cell(2), Err(Reason::TooFew));
}

#[test]
fn stored_cells_add_up_as_the_disclosed_ones() {
    // Mobile too few, Web derivable, Eng and Sales shown; a round's cells as stored at
    // close must give every view exactly what the rule just decided.
    let cs = [
        counter(1, 2, 9, 5, 2, 1),
        counter(1, 3, 5, 2, 1, 1),
        counter(1, 4, 7, 3, 2, 1),
        counter(2, 2, 9, 4, 4, 1),
        counter(2, 4, 3, 1, 0, 0),
    ];
    let rounds = [disclose(&cs, 1), disclose(&cs, 2)];
    let stored: Vec<RoundCells> = rounds
        .iter()
        .map(|r| {
            let cells = r.stored();
            assert_eq!(cells[0].group, COMPANY, "the company comes first");
            RoundCells::from_stored(r.round_id, r.day, r.min, cells)
        })
        .collect();
    for g in [COMPANY, 1, 2, 3, 4, 99] {
        assert_eq!(sum(&rounds, g), sum(&stored, g), "group {g}");
    }
    // Only the groups a round concerns are stored (Mobile was not invited to round 2).
    assert!(!rounds[1].stored().iter().any(|c| c.group == 3));
}
