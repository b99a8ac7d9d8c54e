// The tables as both migration trees create them (checked by tests/api/schema.rs).

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    teams (id) {
        id -> Integer,
        name -> Text,
        parent_id -> Nullable<Integer>,
        lead_id -> Nullable<Integer>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    employees (id) {
        id -> Integer,
        email -> Text,
        name -> Text,
        team_id -> Nullable<Integer>,
        manager_id -> Nullable<Integer>,
        role -> Text,
        hired_on -> Date,
        left_on -> Nullable<Date>,
        leave_reason -> Nullable<Text>,
        regretted -> Bool,
        locale -> Text,
        password_hash -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sessions_valid_after -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_attempts (key) {
        key -> Text,
        window_started_at -> Timestamp,
        attempts -> Integer,
    }
}

diesel::table! {
    oidc_logins (state_hash) {
        state_hash -> Text,
        nonce -> Text,
        code_verifier -> Text,
        next_path -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    surveys (id) {
        id -> Integer,
        title -> Text,
        intro -> Nullable<Text>,
        enps_scale -> Text,
        cadence -> Text,
        starts_on -> Date,
        send_time -> Text,
        timezone -> Text,
        open_days -> Integer,
        reminder_after_days -> Nullable<Integer>,
        min_group_size -> Integer,
        status -> Text,
        question_version -> Integer,
        scheduled_until -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    survey_teams (survey_id, team_id) {
        survey_id -> Integer,
        team_id -> Integer,
    }
}

diesel::table! {
    questions (id) {
        id -> Integer,
        survey_id -> Integer,
        version -> Integer,
        position -> Integer,
        kind -> Text,
        prompt -> Text,
        options -> Nullable<Text>,
        required -> Bool,
        driver -> Nullable<Text>,
    }
}

diesel::table! {
    rounds (id) {
        id -> Integer,
        survey_id -> Integer,
        question_version -> Integer,
        scheduled_for -> Timestamp,
        opens_at -> Timestamp,
        closes_at -> Timestamp,
        reminder_at -> Nullable<Timestamp>,
        reminded -> Bool,
        status -> Text,
        invited -> Integer,
        responded -> Integer,
        enps_scale -> Text,
        min_group_size -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invitations (id) {
        id -> Integer,
        round_id -> Integer,
        employee_id -> Integer,
        team_id -> Nullable<Integer>,
        token_hash -> Text,
        reminder_token_hash -> Nullable<Text>,
        responded -> Bool,
    }
}

diesel::table! {
    responses (id) {
        id -> Text,
        round_id -> Integer,
        team_id -> Nullable<Integer>,
        submitted_on -> Date,
    }
}

diesel::table! {
    answers (id) {
        id -> Integer,
        response_id -> Text,
        question_id -> Integer,
        score -> Nullable<Integer>,
        scale -> Nullable<Text>,
        choice -> Nullable<Text>,
        text -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Integer,
        dedupe_key -> Text,
        recipient -> Text,
        subject -> Text,
        message -> Text,
        message_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        claim_token -> Nullable<Text>,
        template -> Nullable<Text>,
        round_id -> Nullable<Integer>,
        token -> Nullable<Text>,
        to_name -> Nullable<Text>,
        locale -> Nullable<Text>,
        webhook_id -> Nullable<Integer>,
    }
}

diesel::table! {
    round_openings (round_id) {
        round_id -> Integer,
        to_invite -> Integer,
        locked_until -> Nullable<Timestamp>,
        claim_token -> Nullable<Text>,
    }
}

diesel::table! {
    round_team_stats (round_id, team_id) {
        round_id -> Integer,
        team_id -> Integer,
        invited -> Integer,
        responses -> Integer,
        promoters -> Integer,
        passives -> Integer,
        detractors -> Integer,
    }
}

diesel::table! {
    round_cells (round_id, team_id) {
        round_id -> Integer,
        team_id -> Integer,
        survey_id -> Integer,
        scheduled_for -> Timestamp,
        enps_scale -> Text,
        min_group_size -> Integer,
        invited -> Integer,
        responses -> Integer,
        promoters -> Integer,
        passives -> Integer,
        detractors -> Integer,
        hidden -> Nullable<Text>,
    }
}

diesel::table! {
    team_memberships (id) {
        id -> Integer,
        employee_id -> Integer,
        team_id -> Integer,
        started_on -> Date,
        ended_on -> Nullable<Date>,
    }
}

diesel::joinable!(employees -> teams (team_id));

diesel::joinable!(questions -> surveys (survey_id));
diesel::joinable!(rounds -> surveys (survey_id));
diesel::joinable!(invitations -> rounds (round_id));
diesel::joinable!(invitations -> employees (employee_id));
diesel::joinable!(responses -> rounds (round_id));
diesel::joinable!(answers -> responses (response_id));
diesel::joinable!(answers -> questions (question_id));
diesel::joinable!(round_team_stats -> rounds (round_id));
diesel::joinable!(round_cells -> rounds (round_id));
diesel::joinable!(round_openings -> rounds (round_id));

diesel::allow_tables_to_appear_in_same_query!(
    settings,
    teams,
    employees,
    login_attempts,
    oidc_logins,
    surveys,
    survey_teams,
    questions,
    rounds,
    invitations,
    responses,
    answers,
    outbox,
    round_openings,
    round_team_stats,
    round_cells,
    team_memberships,
);

// 1:1s (migration 000004).

diesel::table! {
    one_on_ones (id) {
        id -> Integer,
        manager_id -> Integer,
        report_id -> Integer,
        cadence -> Text,
        starts_on -> Date,
        local_time -> Text,
        timezone -> Text,
        duration_minutes -> Integer,
        reminder_hours_before -> Integer,
        status -> Text,
        materialized_until -> Timestamp,
        created_by -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    meetings (id) {
        id -> Integer,
        series_id -> Integer,
        scheduled_for -> Timestamp,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        remind_at -> Timestamp,
        status -> Text,
        sequence -> Integer,
        announced_sequence -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    agenda_items (id) {
        id -> Integer,
        meeting_id -> Integer,
        author_id -> Integer,
        text -> Text,
        done -> Bool,
        created_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
        position -> Integer,
    }
}

diesel::table! {
    agenda_templates (id) {
        id -> Integer,
        owner_id -> Integer,
        name -> Text,
        items -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notes_keys (employee_id) {
        employee_id -> Integer,
        salt -> Text,
        password_wrap -> Text,
        recovery_wrap -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    meeting_notes (id) {
        id -> Integer,
        meeting_id -> Integer,
        author_id -> Integer,
        body -> Text,
        private -> Bool,
        created_at -> Timestamp,
        sealed -> Nullable<Text>,
        edited_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    action_items (id) {
        id -> Integer,
        meeting_id -> Integer,
        series_id -> Integer,
        author_id -> Integer,
        owner_id -> Integer,
        text -> Text,
        due_on -> Nullable<Date>,
        done -> Bool,
        done_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    account_invitations (id) {
        id -> Integer,
        employee_id -> Integer,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_by -> Integer,
        created_at -> Timestamp,
    }
}

diesel::joinable!(meetings -> one_on_ones (series_id));
diesel::joinable!(agenda_items -> meetings (meeting_id));
diesel::joinable!(meeting_notes -> meetings (meeting_id));
diesel::joinable!(action_items -> meetings (meeting_id));
diesel::joinable!(account_invitations -> employees (employee_id));

// A second list so the first stays untouched: only `employees` is shared with it.
diesel::allow_tables_to_appear_in_same_query!(
    employees,
    one_on_ones,
    meetings,
    agenda_items,
    meeting_notes,
    action_items,
    account_invitations,
);

diesel::table! {
    audit_log (id) {
        id -> Integer,
        at -> Timestamp,
        actor_id -> Nullable<Integer>,
        action -> Text,
        target -> Text,
        ip -> Text,
        detail -> Text,
    }
}

// The audit list names its actors.
diesel::allow_tables_to_appear_in_same_query!(audit_log, employees);

diesel::table! {
    webhooks (id) {
        id -> Integer,
        url -> Text,
        events -> Text,
        format -> Text,
        secret -> Text,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        last_attempt_at -> Nullable<Timestamp>,
        last_status -> Nullable<Text>,
        last_delivered_at -> Nullable<Timestamp>,
        failures -> Integer,
    }
}

// A delivery is an outbox row that names its webhook.
diesel::joinable!(outbox -> webhooks (webhook_id));
diesel::allow_tables_to_appear_in_same_query!(outbox, webhooks);

diesel::table! {
    erasures (employee_id) {
        employee_id -> Integer,
        erased_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(erasures, employees);

diesel::table! {
    answers_removed (round_id) {
        round_id -> Integer,
        removed_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(answers_removed, rounds);

diesel::table! {
    turnover_facts (team_id, day) {
        team_id -> Integer,
        day -> Date,
        arrivals -> Integer,
        departures -> Integer,
        separations -> Integer,
        voluntary -> Integer,
        involuntary -> Integer,
        other_reason -> Integer,
        regretted -> Integer,
        first_year -> Integer,
        brief_month -> Integer,
        brief_quarter -> Integer,
        brief_year -> Integer,
    }
}

diesel::table! {
    turnover_balances (team_id) {
        team_id -> Integer,
        arrivals -> Integer,
        departures -> Integer,
    }
}

diesel::table! {
    scim_tokens (id) {
        id -> Integer,
        name -> Text,
        token_hash -> Text,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    scim_resources (id) {
        id -> Integer,
        kind -> Text,
        local_id -> Integer,
        external_id -> Nullable<Text>,
        user_name -> Nullable<Text>,
        attributes -> Text,
        deleted -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

// Branch `library`: the question library and rotating pulses (migration 2026-12-07-010000).

diesel::table! {
    library_questions (id) {
        id -> Integer,
        key -> Nullable<Text>,
        kind -> Text,
        driver -> Nullable<Text>,
        prompt_en -> Text,
        prompt_fr -> Text,
        options_en -> Nullable<Text>,
        options_fr -> Nullable<Text>,
        version -> Integer,
        retired -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    library_question_history (question_id, version) {
        question_id -> Integer,
        version -> Integer,
        driver -> Nullable<Text>,
        prompt_en -> Text,
        prompt_fr -> Text,
        options_en -> Nullable<Text>,
        options_fr -> Nullable<Text>,
        replaced_at -> Timestamp,
    }
}

diesel::table! {
    question_rotations (survey_id, version) {
        survey_id -> Integer,
        version -> Integer,
        per_round -> Integer,
    }
}
// lifecycle: lifecycle surveys (triggers, cohorts, sends) and manager digests.
diesel::table! {
    survey_triggers (survey_id) {
        survey_id -> Integer,
        kind -> Text,
        days_after_hire -> Text,
    }
}

diesel::table! {
    lifecycle_cohorts (round_id) {
        round_id -> Integer,
        survey_id -> Integer,
        milestone -> Integer,
        period_start -> Date,
        period_end -> Date,
    }
}

diesel::table! {
    lifecycle_sends (survey_id, employee_id, milestone) {
        survey_id -> Integer,
        employee_id -> Integer,
        milestone -> Integer,
        sent_on -> Date,
    }
}

diesel::table! {
    digest_preferences (employee_id) {
        employee_id -> Integer,
        enabled -> Bool,
    }
}

diesel::table! {
    digest_sends (employee_id, week_start) {
        employee_id -> Integer,
        week_start -> Date,
        unsubscribe_hash -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(lifecycle_cohorts, survey_triggers, rounds);
diesel::allow_tables_to_appear_in_same_query!(employees, digest_preferences);

// conversations: anonymous conversations on comments, and action plans.
diesel::table! {
    conversations (id) {
        id -> Text,
        token_hash -> Text,
        round_id -> Integer,
        response_id -> Text,
    }
}

diesel::table! {
    comment_messages (id) {
        id -> Text,
        round_id -> Integer,
        answer_id -> Integer,
        position -> Integer,
        side -> Text,
        body -> Text,
        sent_on -> Date,
    }
}

diesel::table! {
    action_plans (id) {
        id -> Integer,
        team_id -> Nullable<Integer>,
        round_id -> Nullable<Integer>,
        driver -> Nullable<Text>,
        text -> Text,
        owner_id -> Integer,
        due_on -> Date,
        status -> Text,
        done_at -> Nullable<Timestamp>,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}
