//! Inputs and secrets: types, defaults, required values, and where a secret may be read.

use super::*;

/// 1-based line and column of the first `needle` in `text`.
fn position_of(text: &str, needle: &str) -> (usize, usize) {
    let offset = text.find(needle).unwrap_or_else(|| panic!("{needle:?} is not in the text"));
    let before = &text[..offset];
    (before.matches('\n').count() + 1, before.rsplit('\n').next().unwrap().chars().count() + 1)
}

/// MINIMAL with top-level `inputs` and `secrets` sections and `env` on the api unit.
fn with_inputs_and_secrets(inputs: &str, secrets: &str, env: &str) -> String {
    edited("images:\n", &format!("inputs:\n{inputs}secrets:\n{secrets}images:\n")) + env
}

const GOOD_INPUTS: &str = "  dbPassword: { secret: true, required: true }\n  replicas: { type: number, default: 2 }\n";
const GOOD_SECRETS: &str = "  db:\n    data: { password: \"{{ inputs.dbPassword }}\" }\n    generate: [token]\n";

#[test]
fn inputs_and_secrets_that_are_right_load() {
    let text = with_inputs_and_secrets(
        GOOD_INPUTS,
        GOOD_SECRETS,
        "      env:\n        A: { secret: db, key: password }\n        B: { field: metadata.name }\n        C: { configMap: cfg, key: k }\n      envFrom: [{ secret: db }]\n",
    );
    assert!(problems(text.into_bytes()).is_empty());
}

#[test]
fn an_input_default_of_the_wrong_type() {
    let text = with_inputs_and_secrets(
        "  replicas: { type: number, default: many }\n",
        GOOD_SECRETS.replace("{{ inputs.dbPassword }}", "x").as_str(),
        "",
    );
    let (line, column) = position_of(&text, "many");
    assert_error(
        &text,
        line,
        column,
        "inputs.replicas.default",
        "wrong type for input \"replicas\": \"many\" is not a number",
    );
}

#[test]
fn a_secret_input_with_a_default_would_sit_in_the_file() {
    let text = with_inputs_and_secrets("  dbPassword: { secret: true, default: hunter2 }\n", GOOD_SECRETS, "");
    let (line, column) = position_of(&text, "hunter2");
    assert_error(&text, line, column, "inputs.dbPassword.default", "a secret input has no default");
}

#[test]
fn a_required_input_missing_is_an_error_at_its_declaration_with_a_hint() {
    let text = with_inputs_and_secrets(GOOD_INPUTS, GOOD_SECRETS, "");
    let loaded = config::load_bytes("services.yaml", text.clone().into_bytes(), Path::new("tests/fixtures")).unwrap();
    let selection = config::stack::Selection { env: "prod".into(), ..Default::default() };
    let found = loaded.resolve(&selection).unwrap_err();
    let (line, column) = position_of(&text, "dbPassword");
    let hit = found.0.iter().any(|d| {
        (d.line, d.column) == (line, column)
            && d.message.contains("--set dbPassword=")
            && d.message.contains("CODEX_INPUT_DBPASSWORD")
    });
    assert!(hit, "{found}");
    // validate checks the rest with a stand-in.
    assert!(problems(text.into_bytes()).is_empty());
}

#[test]
fn a_short_secret_form_naming_no_declared_secret() {
    let text =
        with_inputs_and_secrets(GOOD_INPUTS, GOOD_SECRETS, "      env:\n        A: { secret: dbx, key: password }\n");
    let (line, column) = position_of(&text, "dbx");
    assert_error(
        &text,
        line,
        column,
        "services[1].workload.env.A.secret",
        "unknown secret \"dbx\"; did you mean \"db\"?",
    );
    let text = with_inputs_and_secrets(GOOD_INPUTS, GOOD_SECRETS, "      envFrom: [{ secret: sessions }]\n");
    let (line, column) = position_of(&text, "sessions");
    assert_error(&text, line, column, "services[1].workload.envFrom[0].secret", "unknown secret \"sessions\"");
}

#[test]
fn a_short_secret_form_naming_no_key_of_it() {
    let text =
        with_inputs_and_secrets(GOOD_INPUTS, GOOD_SECRETS, "      env:\n        A: { secret: db, key: pasword }\n");
    let (line, column) = position_of(&text, "{ secret: db, key: pasword }");
    assert_error(
        &text,
        line,
        column + 10,
        "services[1].workload.env.A.secret",
        "secret \"db\" has no key \"pasword\"; its keys: password, token",
    );
    let text = with_inputs_and_secrets(GOOD_INPUTS, GOOD_SECRETS, "      env:\n        A: { secret: db }\n");
    let (line, column) = position_of(&text, "{ secret: db }");
    assert_error(&text, line, column, "services[1].workload.env.A", "\"secret\" needs \"key\"");
}

#[test]
fn a_generate_key_that_is_also_in_data() {
    let secrets = "  session:\n    data: { token: fixed }\n    generate: [token]\n";
    let text = with_inputs_and_secrets(GOOD_INPUTS, secrets, "");
    let (line, column) = position_of(&text, "token]");
    assert_error(
        &text,
        line,
        column,
        "secrets.session.generate[0]",
        "key \"token\" is also in data: a key is either generated or given; remove it from \"generate\" or from \"data\"",
    );
}

#[test]
fn a_plain_template_naming_a_secret_input_says_why_it_cannot() {
    let text =
        with_inputs_and_secrets(GOOD_INPUTS, GOOD_SECRETS, "      env:\n        A: \"{{ inputs.dbPassword }}\"\n");
    let loaded = config::load_bytes("services.yaml", text.clone().into_bytes(), Path::new("tests/fixtures")).unwrap();
    let inputs = config::inputs::GivenInputs {
        set: vec![("dbPassword".into(), "do-not-print-me".into())],
        ..Default::default()
    };
    let selection = config::stack::Selection { env: "prod".into(), ..Default::default() };
    let found = loaded.resolve_with(&selection, &inputs).unwrap_err();
    let (line, column) = position_of(&text, "\"{{ inputs.dbPassword }}\"\n");
    let hit = found.0.iter().any(|d| {
        (d.line, d.column) == (line, column)
            && d.path == "services[1].workload.env.A"
            && d.message.contains("is secret")
    });
    assert!(hit, "{found}");
    assert!(!found.to_string().contains("do-not-print-me"));
}

#[test]
fn a_secret_file_leaving_the_directory() {
    let secrets = "  tls:\n    files: { ca.crt: ../outside.pem }\n";
    let text = with_inputs_and_secrets(GOOD_INPUTS, secrets, "");
    let (line, column) = position_of(&text, "../outside.pem");
    assert_error(&text, line, column, "secrets.tls.files[\"ca.crt\"]", "inside the directory of services.yaml");
}

#[test]
fn bad_input_and_secret_names() {
    let text = with_inputs_and_secrets("  db-password: { default: x }\n", "  Bad_Name:\n    generate: [k]\n", "");
    let (line, column) = position_of(&text, "db-password");
    assert_error(&text, line, column, "inputs.db-password", "letters, digits and '_'");
    let (line, column) = position_of(&text, "Bad_Name");
    assert_error(&text, line, column, "secrets.Bad_Name", "is not a Secret name");
}
