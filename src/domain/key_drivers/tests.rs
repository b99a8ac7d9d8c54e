use super::*;
use crate::domain::report::COMPANY;

fn m(xs: &[f64]) -> Moments {
    let mut out = Moments::default();
    for &x in xs {
        out.push(x);
    }
    out
}

#[test]
fn change_of_equal_groups_by_hand() {
    // Now 4,5,4,3,4: n 5, Σx 20, mean 4, Σx² 82, s² = (82 − 20²/5)/4 = 0.5.
    // Before 3,3,4,2,3: n 5, Σx 15, mean 3, Σx² 47, s² = (47 − 15²/5)/4 = 0.5.
    // Difference 1.0; se = √(0.5/5 + 0.5/5) = √0.2 = 0.44721.
    // Welch df = 0.2² / (0.1²/4 + 0.1²/4) = 0.04/0.005 = 8, t(0.975, 8) = 2.306.
    // Half-width 2.306 × 0.44721 = 1.0313: interval −0.03 to 2.03, spans zero.
    let c = change(m(&[4., 5., 4., 3., 4.]), m(&[3., 3., 4., 2., 3.])).unwrap();
    assert_eq!(
        c,
        ChangeFigures {
            value: 1.0,
            ci_low: -0.03,
            ci_high: 2.03,
            significant: false,
            previous_score: 3.0,
            previous_n: 5,
        }
    );
    // Before 2,2,3,2,1: mean 2, Σx² 22, s² = (22 − 20)/4 = 0.5; same se and df:
    // 2.0 ± 1.0313 = 0.97 to 3.03, clear of zero.
    let c = change(m(&[4., 5., 4., 3., 4.]), m(&[2., 2., 3., 2., 1.])).unwrap();
    assert_eq!((c.value, c.ci_low, c.ci_high), (2.0, 0.97, 3.03));
    assert!(c.significant);
}

#[test]
fn change_of_unequal_groups_uses_welch_degrees_of_freedom() {
    // Now 5,5,4,4,5,4: n 6, mean 4.5, Σx² 123, s² = (123 − 27²/6)/5 = 0.3, s²/n = 0.05.
    // Before 2,4,3,3: n 4, mean 3, Σx² 38, s² = (38 − 12²/4)/3 = 0.6667, s²/n = 0.16667.
    // se = √0.21667 = 0.46547; df = 0.21667² / (0.05²/5 + 0.16667²/3) = 4.81 → 4,
    // t(0.975, 4) = 2.776; half-width 1.2922: 1.5 ± 1.29 = 0.21 to 2.79.
    let c = change(m(&[5., 5., 4., 4., 5., 4.]), m(&[2., 4., 3., 3.])).unwrap();
    assert_eq!((c.value, c.ci_low, c.ci_high), (1.5, 0.21, 2.79));
    assert!(c.significant);
    assert_eq!(c.previous_n, 4);
}

#[test]
fn correlation_with_fisher_interval_by_hand() {
    // (1,2) (2,4) (3,5) (4,4) (5,8): n 5, Σx 15, Σy 23, Σx² 55, Σy² 125, Σxy 81.
    // r = (5·81 − 15·23) / √((5·55 − 15²)(5·125 − 23²)) = 60/√(50·96) = 0.86603.
    // z = atanh 0.86603 = 1.31696; se = 1/√(5−3) = 0.70711; 1.96 se = 1.38590.
    // tanh(1.31696 − 1.38590) = −0.069, tanh(1.31696 + 1.38590) = 0.991: spans zero.
    let mut p = Pairs::default();
    for (x, y) in [(1., 2.), (2., 4.), (3., 5.), (4., 4.), (5., 8.)] {
        p.push(x, y);
    }
    let c = correlation(p).unwrap();
    assert_eq!(
        c,
        CorrelationFigures {
            r: 0.866,
            ci_low: -0.069,
            ci_high: 0.991,
            n: 5,
            significant: false,
        }
    );
}

#[test]
fn correlation_needs_spread_and_small_n_gets_the_whole_range() {
    let mut flat = Pairs::default();
    for y in [1., 5., 9.] {
        flat.push(3.0, y);
    }
    assert_eq!(correlation(flat), None);
    // n 3: r = 1 exactly (y = 2x), but with n − 3 = 0 nothing bounds it.
    let mut three = Pairs::default();
    for x in [1., 2., 3.] {
        three.push(x, 2.0 * x);
    }
    let c = correlation(three).unwrap();
    assert_eq!((c.r, c.ci_low, c.ci_high), (1.0, -1.0, 1.0));
}

#[test]
fn t_quantiles_match_the_table() {
    assert_eq!(t_975(0.4), 12.706);
    assert_eq!(t_975(8.9), 2.306);
    assert_eq!(t_975(30.0), 2.042);
    // Exact: 2.0211 (40), 2.0003 (60), 1.9799 (120).
    for (df, exact) in [(40.0, 2.0211), (60.0, 2.0003), (120.0, 1.9799)] {
        assert!((t_975(df) - exact).abs() < 2e-4, "{df}: {}", t_975(df));
    }
    assert!((t_975(f64::INFINITY) - 1.96).abs() < 1e-3);
}

#[test]
fn a_response_keeps_each_answer_and_ignores_out_of_scale_ones() {
    let r = ResponseScores::of(
        7,
        [
            (1, Some(Driver::Growth), 4),
            (2, Some(Driver::Growth), 5),
            (3, Some(Driver::Pay), 9),
            (4, None, 8),
        ],
    );
    assert_eq!(r.team, 7);
    assert_eq!(r.enps, Some(8.0));
    assert_eq!(
        r.answers,
        vec![(1, Driver::Growth, 4.0), (2, Driver::Growth, 5.0)]
    );
}

fn resp(team: i32, growth: Option<i32>, enps: Option<i32>) -> ResponseScores {
    ResponseScores::of(
        team,
        growth
            .map(|g| (1, Some(Driver::Growth), g))
            .into_iter()
            .chain(enps.map(|e| (9, None, e))),
    )
}

#[test]
fn a_small_team_is_hidden_and_its_sibling_with_it() {
    // Teams 1 and 2 under the company, threshold 3. Team 1: 4 answers to growth,
    // team 2: 2. Team 2 is too few; showing team 1 beside the company would give
    // team 2 away (6 − 4), so team 1 is hidden as derivable; the company shows all 6.
    let tree = Tree::new(&[(1, None), (2, None)]);
    let responses: Vec<ResponseScores> = [(1, 4), (1, 4), (1, 5), (1, 3), (2, 2), (2, 1)]
        .into_iter()
        .map(|(t, g)| resp(t, Some(g), Some(7)))
        .collect();
    let cell = |g| round_cells(&tree, g, 3, GroupCell::Shown, &responses)[&Driver::Growth];
    assert_eq!(shown_scores(&cell(2)), Err(Reason::TooFew));
    assert_eq!(shown_scores(&cell(1)), Err(Reason::Derivable));
    let company = shown_scores(&cell(COMPANY)).unwrap();
    // Σx = 4+4+5+3+2+1 = 19, Σx² = 16+16+25+9+4+1 = 71.
    assert_eq!((company.n, company.sum, company.sum_sq), (6, 19.0, 71.0));
    // The round's own cell hidden: every driver cell of the group is, for that reason.
    let hidden = round_cells(
        &tree,
        COMPANY,
        3,
        GroupCell::Hidden(Reason::Derivable),
        &responses,
    );
    assert_eq!(
        shown_scores(&hidden[&Driver::Growth]),
        Err(Reason::Derivable)
    );
    assert_eq!(
        shown_pairs(&hidden[&Driver::Growth]),
        Err(Reason::Derivable)
    );
}

#[test]
fn pairs_count_only_responses_that_answered_both() {
    // Five answer growth; only three of them gave an eNPS score (a rotated or skipped
    // question): the score has n 5, the correlation n 3, and with threshold 4 the
    // correlation is hidden while the score is shown.
    let tree = Tree::new(&[(1, None)]);
    let responses = vec![
        resp(1, Some(2), Some(3)),
        resp(1, Some(3), Some(6)),
        resp(1, Some(4), Some(9)),
        resp(1, Some(5), None),
        resp(1, Some(5), None),
        resp(1, None, Some(10)),
    ];
    let c = round_cells(&tree, 1, 3, GroupCell::Shown, &responses)[&Driver::Growth];
    assert_eq!(shown_scores(&c).unwrap().n, 5);
    assert_eq!(shown_pairs(&c).unwrap().n, 3);
    let c = round_cells(&tree, 1, 4, GroupCell::Shown, &responses)[&Driver::Growth];
    assert_eq!(shown_scores(&c).unwrap().n, 5);
    assert_eq!(shown_pairs(&c), Err(Reason::TooFew));
}

#[test]
fn a_period_adds_only_shown_cells_and_ranks_by_impact() {
    let tree = Tree::new(&[(1, None)]);
    let both = |g: i32, man: i32, stay: i32, e: i32| {
        ResponseScores::of(
            1,
            [
                (1, Some(Driver::Growth), g),
                (2, Some(Driver::Manager), man),
                (3, Some(Driver::StayIntent), stay),
                (9, None, e),
            ],
        )
    };
    // Round 1 (shown): growth 1,2,3 with eNPS 2,4,6; manager 5,5,4 (eNPS as before).
    // Round 2 (its cell hidden at close): left out whatever its answers.
    // Round 3 (shown): growth 2,3,4 with eNPS 3,6,7; manager 4,5,5.
    let r1 = vec![both(1, 5, 3, 2), both(2, 5, 3, 4), both(3, 4, 4, 6)];
    let r2 = vec![both(5, 1, 1, 10), both(5, 1, 1, 10), both(5, 1, 1, 10)];
    let r3 = vec![both(2, 4, 4, 3), both(3, 5, 4, 6), both(4, 5, 5, 7)];
    let mut now = BTreeMap::new();
    add_round(&mut now, &round_cells(&tree, 1, 3, GroupCell::Shown, &r1));
    let hidden = GroupCell::Hidden(Reason::TooFew);
    add_round(&mut now, &round_cells(&tree, 1, 3, hidden, &r2));
    add_round(&mut now, &round_cells(&tree, 1, 3, GroupCell::Shown, &r3));
    let g = now[&Driver::Growth];
    assert_eq!(g.score_cells, 2);
    assert_eq!(g.score_left_out, LeftOut::new(1, 0));
    // Growth: 1,2,3,2,3,4 → n 6, Σx 15, mean 2.5. Pairs with eNPS 2,4,6,3,6,7:
    // Σy 28, Σx² 43, Σy² 150, Σxy 2+8+18+6+18+28 = 80;
    // r = (6·80 − 15·28)/√((6·43 − 225)(6·150 − 784)) = 60/√(33·116) = 0.9698.
    // Impact 0.9698 × (5 − 2.5)/4 = 0.606.
    // Manager: 5,5,4,4,5,5 → mean 4.67; Σx 28, Σx² 132, Σxy 10+20+24+12+30+35 = 131;
    // r = (6·131 − 28·28)/√((6·132 − 784)(116)) = 2/√(8·116) = 0.0657;
    // impact 0.0657 × 0.333/4 = 0.005. Growth ranks first.
    let k = key_drivers(&now, &BTreeMap::new());
    let order: Vec<Driver> = k.drivers.iter().map(|d| d.driver).collect();
    assert_eq!(order, vec![Driver::Growth, Driver::Manager]);
    let growth = &k.drivers[0];
    assert_eq!(growth.score, Ok((2.5, 6)));
    assert_eq!(growth.change, None);
    let c = *growth.correlation.unwrap().shown().unwrap();
    assert_eq!((c.r, c.n), (0.97, 6));
    assert_eq!(growth.impact, Some(0.606));
    assert_eq!(k.drivers[1].score, Ok((4.67, 6)));
    assert_eq!(k.drivers[1].impact, Some(0.005));
    // Intent to stay is an outcome: beside the ranking, never in it.
    assert_eq!(k.outcomes.len(), 1);
    assert_eq!(k.outcomes[0].driver, Driver::StayIntent);

    // Against a previous period made of round 1 alone: growth 1,2,3 (mean 2, s² 1).
    // Now: n 6, mean 2.5, s² = (43 − 37.5)/5 = 1.1. se = √(1.1/6 + 1/3) = 0.71880,
    // df = 0.51667²/(0.18333²/5 + 0.33333²/2) = 0.26694/(0.006722 + 0.055556) = 4.29 → 4,
    // half-width 2.776 × 0.71880 = 1.9954: +0.5 from −1.50 to 2.50, no significant change.
    let mut before = BTreeMap::new();
    add_round(
        &mut before,
        &round_cells(&tree, 1, 3, GroupCell::Shown, &r1),
    );
    let k = key_drivers(&now, &before);
    let growth = k
        .drivers
        .iter()
        .find(|d| d.driver == Driver::Growth)
        .unwrap();
    let ch = *growth.change.unwrap().shown().unwrap();
    assert_eq!((ch.value, ch.ci_low, ch.ci_high), (0.5, -1.5, 2.5));
    assert!(!ch.significant);

    // A previous period whose only cell was hidden: the change says why, nothing more.
    let mut hidden_before = BTreeMap::new();
    add_round(&mut hidden_before, &round_cells(&tree, 1, 3, hidden, &r1));
    let k = key_drivers(&now, &hidden_before);
    assert_eq!(
        k.drivers[0].change,
        Some(Figure::Suppressed {
            suppressed: true,
            reason: Reason::TooFew
        })
    );
}

#[test]
fn a_period_with_every_cell_hidden_shows_no_figure() {
    let tree = Tree::new(&[(1, None)]);
    let r = vec![resp(1, Some(3), Some(5)); 4];
    let mut now = BTreeMap::new();
    let cells = round_cells(&tree, 1, 3, GroupCell::Hidden(Reason::Derivable), &r);
    add_round(&mut now, &cells);
    let k = key_drivers(&now, &BTreeMap::new());
    assert_eq!(k.drivers[0].score, Err(Reason::Derivable));
    assert_eq!(k.drivers[0].impact, None);
    assert_eq!(
        k.drivers[0].correlation,
        Some(Figure::Suppressed {
            suppressed: true,
            reason: Reason::Derivable
        })
    );
}

#[test]
fn a_driver_adds_only_the_shown_cells_of_its_questions() {
    // Growth asked twice in one round, threshold 3, one team. Question 1: 4, 4, 5, 3
    // (n 4, shown); question 2: 1, 2 (n 2, too few). The driver adds question 1 alone:
    // n 4, Σx 16, mean 4, and counts question 2's cell as left out. (Averaging each
    // response's answers first would give away, beside question 1's own figures, the
    // responses that answered both.)
    let tree = Tree::new(&[(1, None)]);
    let mut responses: Vec<ResponseScores> = [4, 4, 5, 3]
        .into_iter()
        .map(|g| ResponseScores::of(1, [(1, Some(Driver::Growth), g), (9, None, 7)]))
        .collect();
    responses[0].answers.push((2, Driver::Growth, 1.0));
    responses[1].answers.push((2, Driver::Growth, 2.0));
    let t = round_cells(&tree, 1, 3, GroupCell::Shown, &responses)[&Driver::Growth];
    let m = shown_scores(&t).unwrap();
    assert_eq!((m.n, m.sum), (4, 16.0));
    assert_eq!(t.score_left_out, LeftOut::new(1, 0));
    assert_eq!(t.score_cells, 1);
}
