//! What Pulse publishes about itself: ServiceProviderConfig, Schemas, ResourceTypes.
//! Only the attributes Pulse stores are listed.

use super::{GROUP_SCHEMA, MAX_RESULTS, USER_SCHEMA};
use serde_json::{json, Value};

fn attr(name: &str, kind: &str, required: bool, description: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": required,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    })
}

fn user_schema(base: &str) -> Value {
    let mut user_name = attr(
        "userName",
        "string",
        true,
        "Unique login; when it is an email it becomes the person's email in Pulse.",
    );
    user_name["uniqueness"] = json!("server");
    let mut name = attr("name", "complex", false, "The person's name.");
    name["subAttributes"] = json!([
        attr(
            "formatted",
            "string",
            false,
            "The full name, as Pulse shows it."
        ),
        attr("familyName", "string", false, "Family name."),
        attr("givenName", "string", false, "Given name."),
    ]);
    // Pulse needs an email for each person: required, unlike in RFC 7643's User.
    let mut emails = attr(
        "emails",
        "complex",
        true,
        "Email addresses; the primary one is the person's email in Pulse when userName is not an email.",
    );
    emails["multiValued"] = json!(true);
    emails["subAttributes"] = json!([
        attr("value", "string", true, "An email address."),
        attr("primary", "boolean", false, "The address Pulse uses."),
    ]);
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A person employed by the company (a Pulse employee).",
        "attributes": [
            user_name,
            name,
            attr("displayName", "string", false, "The name shown when there is no name.formatted."),
            emails,
            attr("active", "boolean", false, "false records a departure with today as the last day; true undoes it."),
        ],
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{USER_SCHEMA}")},
    })
}

fn group_schema(base: &str) -> Value {
    let mut display = attr("displayName", "string", true, "The team's name.");
    display["uniqueness"] = json!("server");
    let mut members = attr(
        "members",
        "complex",
        false,
        "The people in the team; a person is in one team at a time.",
    );
    members["multiValued"] = json!(true);
    let mut value = attr("value", "string", false, "The id of a User.");
    value["mutability"] = json!("immutable");
    let mut reference = attr("$ref", "reference", false, "The URI of the User.");
    reference["mutability"] = json!("immutable");
    reference["referenceTypes"] = json!(["User"]);
    members["subAttributes"] = json!([value, reference]);
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": GROUP_SCHEMA,
        "name": "Group",
        "description": "A team in Pulse.",
        "attributes": [display, members],
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{GROUP_SCHEMA}")},
    })
}

pub fn schemas(base: &str) -> Vec<Value> {
    vec![user_schema(base), group_schema(base)]
}

pub fn resource_types(base: &str) -> Vec<Value> {
    let rt = |id: &str, endpoint: &str, schema: &str, description: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": id,
            "name": id,
            "endpoint": endpoint,
            "description": description,
            "schema": schema,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{id}")},
        })
    };
    vec![
        rt("User", "/Users", USER_SCHEMA, "People (Pulse employees)"),
        rt("Group", "/Groups", GROUP_SCHEMA, "Teams"),
    ]
}

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://github.com/pulse/pulse#scim-provisioning",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A SCIM token HR makes with POST /api/v1/scim-tokens",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    })
}
