//! Both migration trees create exactly the tables and columns of src/db/schema.rs.

use crate::helpers::{test_database, Engine};
use diesel::prelude::*;
use diesel::sql_types::Text;
use std::collections::BTreeMap;

type Tables = BTreeMap<String, Vec<(String, String)>>;

/// Tables and (column, diesel type) pairs as written in schema.rs.
fn declared() -> Tables {
    let text = include_str!("../../src/db/schema.rs");
    let mut tables = Tables::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if let Some(name) = line
            .strip_suffix('{')
            .and_then(|l| l.split_once(" ("))
            .map(|(n, _)| n.trim())
        {
            if !name.contains("table!") {
                current = Some(name.to_string());
                tables.insert(name.to_string(), vec![]);
            }
        } else if let (Some(t), Some((col, ty))) = (&current, line.split_once(" -> ")) {
            tables
                .get_mut(t)
                .unwrap()
                .push((col.to_string(), ty.trim_end_matches(',').to_string()));
        } else if line == "}" {
            current = None;
        }
    }
    tables
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    nullable: String,
}

/// Maps an engine's column type to the diesel type schema.rs should use.
fn diesel_type(engine_type: &str, nullable: bool) -> String {
    let base = match engine_type.to_lowercase().as_str() {
        "integer" | "int4" | "serial" => "Integer",
        "bigint" | "int8" => "BigInt",
        "text" | "character varying" => "Text",
        "boolean" | "bool" => "Bool",
        "date" => "Date",
        "timestamp" | "timestamp without time zone" => "Timestamp",
        other => panic!("unexpected column type {other}"),
    };
    if nullable {
        format!("Nullable<{base}>")
    } else {
        base.to_string()
    }
}

fn actual(engine: Engine) -> Option<Tables> {
    let (url, _guard) = test_database(engine)?;
    let mut conn = pulse::db::Manager::new(pulse::db::DatabaseUrl::parse(&url).unwrap())
        .establish()
        .unwrap();
    pulse::db::migrate(&mut conn).unwrap();
    let rows: Vec<Column> = match &mut conn {
        pulse::db::DbConnection::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
             CASE WHEN p.\"notnull\" = 1 OR p.pk = 1 THEN 'NO' ELSE 'YES' END AS nullable \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name != '__diesel_schema_migrations' ORDER BY m.name, p.cid",
        )
        .load(c)
        .unwrap(),
        pulse::db::DbConnection::Postgresql(c) => diesel::sql_query(
            "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text AS nullable \
             FROM information_schema.columns WHERE table_schema = 'public' \
             AND table_name != '__diesel_schema_migrations' ORDER BY table_name, ordinal_position",
        )
        .load(c)
        .unwrap(),
    };
    let mut tables = Tables::new();
    for r in rows {
        tables.entry(r.table_name).or_default().push((
            r.column_name,
            diesel_type(&r.data_type, r.nullable == "YES"),
        ));
    }
    Some(tables)
}

#[test]
fn sqlite_migrations_match_schema_rs() {
    assert_eq!(actual(Engine::Sqlite).unwrap(), declared());
}

#[test]
fn postgres_migrations_match_schema_rs() {
    match actual(Engine::Postgres) {
        Some(tables) => assert_eq!(tables, declared()),
        None => eprintln!("skipped: set TEST_DATABASE_URL to compare the PostgreSQL tree"),
    }
}

#[test]
fn schema_rs_is_read_correctly() {
    // Guards the comparison above against a parser that reads nothing.
    let tables = declared();
    assert!(tables.len() >= 4);
    assert!(tables["employees"].contains(&("left_on".to_string(), "Nullable<Date>".to_string())));
}
