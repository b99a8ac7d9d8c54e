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
    }
}

diesel::table! {
    login_failures (id) {
        id -> Integer,
        key -> Text,
        failed_at -> Timestamp,
    }
}

diesel::joinable!(employees -> teams (team_id));

diesel::allow_tables_to_appear_in_same_query!(settings, teams, employees, login_failures);
