//! SCIM PATCH (RFC 7644 §3.5.2): add, replace and remove applied to a resource as JSON.
//!
//! The route renders the resource, applies the operations here, and stores the
//! result as a replacement, so PATCH and PUT share one write path.

use super::filter::{self, get_ci, strip_urn, Filter};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub op: OpKind,
    pub path: Option<Path>,
    pub value: Option<Value>,
}

/// `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub`.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub attr: String,
    pub filter: Option<Filter>,
    pub sub: Option<String>,
}

/// Why a PATCH is refused: the SCIM error type and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchError {
    pub scim_type: &'static str,
    pub detail: String,
}

fn err(scim_type: &'static str, detail: impl Into<String>) -> PatchError {
    PatchError {
        scim_type,
        detail: detail.into(),
    }
}

pub fn parse_path(raw: &str) -> Result<Path, PatchError> {
    let raw = raw.trim();
    let (head, filter, rest) = match raw.find('[') {
        Some(open) => {
            let close = raw
                .rfind(']')
                .filter(|c| *c > open)
                .ok_or_else(|| err("invalidPath", format!("{raw:?}: a [ is not closed")))?;
            let f = filter::parse(&raw[open + 1..close])
                .map_err(|e| err("invalidFilter", format!("{raw:?}: {e}")))?;
            let rest = raw[close + 1..].trim_start_matches('.');
            (&raw[..open], Some(f), (!rest.is_empty()).then_some(rest))
        }
        None => (raw, None, None),
    };
    let head = strip_urn(head);
    let (attr, sub) = match (head.split_once('.'), rest) {
        (Some((a, s)), None) => (a, Some(s)),
        (Some(_), Some(_)) => return Err(err("invalidPath", format!("{raw:?} is too deep"))),
        (None, r) => (head, r),
    };
    let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || "_$-".contains(c));
    if !ok(attr) || sub.is_some_and(|s| !ok(s)) {
        return Err(err(
            "invalidPath",
            format!("{raw:?} is not an attribute path"),
        ));
    }
    Ok(Path {
        attr: attr.to_string(),
        filter,
        sub: sub.map(String::from),
    })
}

/// Reads a PatchOp body's `Operations`.
pub fn parse(body: &Value) -> Result<Vec<Operation>, PatchError> {
    let ops = get_ci(body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| err("invalidSyntax", "the body needs an Operations array"))?;
    if ops.is_empty() {
        return Err(err("invalidSyntax", "Operations is empty"));
    }
    ops.iter()
        .map(|o| {
            let op = match get_ci(o, "op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
            {
                Some(op) if op == "add" => OpKind::Add,
                Some(op) if op == "replace" => OpKind::Replace,
                Some(op) if op == "remove" => OpKind::Remove,
                _ => {
                    return Err(err(
                        "invalidSyntax",
                        "each operation's op must be add, replace or remove",
                    ))
                }
            };
            let path = match get_ci(o, "path") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) => Some(parse_path(p)?),
                Some(_) => return Err(err("invalidPath", "path must be a string")),
            };
            let value = get_ci(o, "value").cloned();
            match (op, &path, &value) {
                (OpKind::Remove, None, _) => Err(err("noTarget", "remove needs a path")),
                (OpKind::Add | OpKind::Replace, _, None) => {
                    Err(err("invalidValue", "add and replace need a value"))
                }
                (OpKind::Add | OpKind::Replace, None, Some(v)) if !v.is_object() => Err(err(
                    "invalidValue",
                    "without a path, the value must be an object of attributes",
                )),
                _ => Ok(Operation { op, path, value }),
            }
        })
        .collect()
}

/// The key already in `obj` for `name`, ignoring case, or `name`.
fn key_of(obj: &Map<String, Value>, name: &str) -> String {
    obj.keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_string())
}

fn set(obj: &mut Map<String, Value>, name: &str, value: Value, op: OpKind) {
    let key = key_of(obj, name);
    match (obj.get_mut(&key), value) {
        (Some(Value::Array(have)), Value::Array(add)) if op == OpKind::Add => {
            for v in add {
                if !have.contains(&v) {
                    have.push(v);
                }
            }
        }
        (Some(Value::Array(have)), v) if op == OpKind::Add && !v.is_array() => {
            if !have.contains(&v) {
                have.push(v);
            }
        }
        (Some(Value::Object(have)), Value::Object(new)) => {
            for (k, v) in new {
                set(have, &k, v, op);
            }
        }
        (_, v) => {
            obj.insert(key, v);
        }
    }
}

fn remove(obj: &mut Map<String, Value>, name: &str) {
    let key = key_of(obj, name);
    obj.remove(&key);
}

/// Applies the operations in order to `resource`, a JSON object.
pub fn apply(resource: &mut Value, ops: &[Operation]) -> Result<(), PatchError> {
    let obj = resource
        .as_object_mut()
        .ok_or_else(|| err("invalidSyntax", "not an object"))?;
    for o in ops {
        let value = o.value.clone().unwrap_or(Value::Null);
        let Some(path) = &o.path else {
            if let Value::Object(attrs) = value {
                for (k, v) in attrs {
                    let k = strip_urn(&k).to_string();
                    set(obj, &k, v, o.op);
                }
            }
            continue;
        };
        match (&path.filter, &path.sub, o.op) {
            (None, None, OpKind::Remove) => remove(obj, &path.attr),
            (None, None, _) => set(obj, &path.attr, value, o.op),
            (None, Some(sub), op) => {
                let key = key_of(obj, &path.attr);
                let parent = obj.entry(key).or_insert_with(|| Value::Object(Map::new()));
                match parent {
                    Value::Object(p) if op == OpKind::Remove => remove(p, sub),
                    Value::Object(p) => set(p, sub, value, op),
                    _ => {
                        return Err(err(
                            "invalidPath",
                            format!("{} has no sub-attributes", path.attr),
                        ))
                    }
                }
            }
            (Some(f), sub, op) => {
                let key = key_of(obj, &path.attr);
                let items = match obj.get_mut(&key) {
                    Some(Value::Array(items)) => items,
                    _ if op == OpKind::Remove => continue,
                    _ => {
                        obj.insert(key.clone(), Value::Array(Vec::new()));
                        match obj.get_mut(&key) {
                            Some(Value::Array(items)) => items,
                            _ => unreachable!("just inserted"),
                        }
                    }
                };
                let hits: Vec<usize> = (0..items.len()).filter(|i| f.matches(&items[*i])).collect();
                match (op, sub) {
                    (OpKind::Remove, None) => {
                        let mut i = 0;
                        items.retain(|_| {
                            let keep = !hits.contains(&i);
                            i += 1;
                            keep
                        });
                    }
                    (OpKind::Remove, Some(sub)) => {
                        for i in hits {
                            if let Value::Object(item) = &mut items[i] {
                                remove(item, sub);
                            }
                        }
                    }
                    (_, sub) if hits.is_empty() => {
                        // Entra adds `emails[type eq "work"].value` this way: a new
                        // element with the filter's equalities and the value.
                        let mut item = Map::new();
                        seed(&mut item, f);
                        match (sub, value) {
                            (Some(sub), v) => set(&mut item, sub, v, OpKind::Replace),
                            (None, Value::Object(v)) => {
                                for (k, v) in v {
                                    set(&mut item, &k, v, OpKind::Replace);
                                }
                            }
                            (None, _) => {
                                return Err(err("invalidValue", "the value must be an object"))
                            }
                        }
                        items.push(Value::Object(item));
                    }
                    (_, Some(sub)) => {
                        for i in hits {
                            if let Value::Object(item) = &mut items[i] {
                                set(item, sub, value.clone(), OpKind::Replace);
                            }
                        }
                    }
                    (_, None) => {
                        for i in hits {
                            match (&mut items[i], &value) {
                                (Value::Object(item), Value::Object(v)) => {
                                    for (k, v) in v {
                                        set(item, k, v.clone(), OpKind::Replace);
                                    }
                                }
                                (slot, v) => *slot = v.clone(),
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// The `attr eq "v"` parts of a filter, written into a new element.
fn seed(item: &mut Map<String, Value>, f: &Filter) {
    match f {
        Filter::Compare(a, filter::Op::Eq, v) => {
            item.insert(a.clone(), v.clone());
        }
        Filter::And(a, b) => {
            seed(item, a);
            seed(item, b);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(mut resource: Value, body: Value) -> Result<Value, PatchError> {
        apply(&mut resource, &parse(&body)?)?;
        Ok(resource)
    }

    fn ops(list: Value) -> Value {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list})
    }

    #[test]
    fn replaces_with_and_without_a_path() {
        let user =
            json!({"userName": "a", "active": true, "name": {"givenName": "A", "familyName": "B"}});
        let out = run(
            user.clone(),
            ops(json!([{"op": "Replace", "path": "active", "value": false}])),
        )
        .unwrap();
        assert_eq!(out["active"], json!(false));
        let out = run(
            user.clone(),
            ops(json!([{"op": "replace", "value": {"active": false, "name": {"givenName": "C"}}}])),
        )
        .unwrap();
        assert_eq!(out["active"], json!(false));
        assert_eq!(out["name"], json!({"givenName": "C", "familyName": "B"}));
        let out = run(
            user,
            ops(json!([{"op": "replace", "path": "name.familyName", "value": "D"}])),
        )
        .unwrap();
        assert_eq!(out["name"]["familyName"], json!("D"));
    }

    #[test]
    fn adds_and_removes_members() {
        let group = json!({"displayName": "Ops", "members": [{"value": "1"}, {"value": "2"}]});
        let out = run(group.clone(), ops(json!([{"op": "add", "path": "members", "value": [{"value": "3"}, {"value": "1"}]}]))).unwrap();
        assert_eq!(
            out["members"],
            json!([{"value": "1"}, {"value": "2"}, {"value": "3"}])
        );
        let out = run(
            group.clone(),
            ops(json!([{"op": "remove", "path": "members[value eq \"2\"]"}])),
        )
        .unwrap();
        assert_eq!(out["members"], json!([{"value": "1"}]));
        let out = run(
            group.clone(),
            ops(json!([{"op": "replace", "path": "members", "value": [{"value": "9"}]}])),
        )
        .unwrap();
        assert_eq!(out["members"], json!([{"value": "9"}]));
        let out = run(group, ops(json!([{"op": "remove", "path": "members"}]))).unwrap();
        assert!(out.get("members").is_none());
    }

    #[test]
    fn value_paths_change_or_create_elements() {
        let user = json!({"emails": [{"value": "a@x.io", "type": "work", "primary": true}]});
        let out = run(user.clone(), ops(json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "b@x.io"}]))).unwrap();
        assert_eq!(out["emails"][0]["value"], json!("b@x.io"));
        let out = run(
            json!({}),
            ops(
                json!([{"op": "add", "path": "emails[type eq \"work\"].value", "value": "c@x.io"}]),
            ),
        )
        .unwrap();
        assert_eq!(out["emails"], json!([{"type": "work", "value": "c@x.io"}]));
        let out = run(json!({"userName": "u"}), ops(json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:User:displayName", "value": "U"}]))).unwrap();
        assert_eq!(out["displayName"], json!("U"));
    }

    #[test]
    fn refuses_bad_operations_with_a_scim_type() {
        let cases = [
            (json!({}), "invalidSyntax"),
            (ops(json!([])), "invalidSyntax"),
            (
                ops(json!([{"op": "move", "path": "a", "value": 1}])),
                "invalidSyntax",
            ),
            (ops(json!([{"op": "remove"}])), "noTarget"),
            (ops(json!([{"op": "add", "path": "a"}])), "invalidValue"),
            (ops(json!([{"op": "add", "value": 3}])), "invalidValue"),
            (
                ops(json!([{"op": "add", "path": "bad path!", "value": 3}])),
                "invalidPath",
            ),
            (
                ops(json!([{"op": "remove", "path": "members[value zz \"1\"]"}])),
                "invalidFilter",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(parse(&body).unwrap_err().scim_type, want, "{body}");
        }
    }
}
