//! Translations rendered by tera, against what Go's text/template renders for the same
//! context (the expected texts were produced by Go 1.26 with codexctl-like functions).

use super::*;
use crate::config::template::{render_str, TemplateContext};
use serde_json::json;

fn context() -> TemplateContext {
    let inputs = json!({
        "REGISTRY": "r.test", "EMPTY": "", "SPACE": "  ", "ON": "true", "N": "3",
        "LIST": ["a", "b", "c"], "NOTHING": [],
        "baseDomain_ai": "ai.test", "storage_db_size": "1Gi",
        "CODEXCTL_WORKSPACE_PVC": "", "BASE_DOMAIN": "",
    });
    TemplateContext {
        project: "demo".into(),
        env: "ai".into(),
        namespace: "demo-ai".into(),
        slot: "3".into(),
        versions: [("app", "1.2"), ("a-b", "x"), ("web", "2.0")].map(|(k, v)| (k.to_string(), v.to_string())).into(),
        inputs: serde_json::from_value(inputs).unwrap(),
        ..Default::default()
    }
}

fn codexctl() -> Scope {
    Scope::new(Dialect::Codexctl)
}

/// Translates with `scope` and renders with tera.
fn render_with(go: &str, scope: &Scope) -> String {
    let translation = translate(go, scope).unwrap_or_else(|e| panic!("{go:?}: {e}"));
    render_str(&translation.text, &context()).unwrap_or_else(|e| panic!("{go:?} → {:?}: {e}", translation.text))
}

fn render(go: &str) -> String {
    render_with(go, &codexctl())
}

fn error_of(go: &str) -> TemplateError {
    match translate(go, &codexctl()) {
        Ok(t) => panic!("{go:?} translated to {:?}", t.text),
        Err(e) => e,
    }
}

fn at(line: usize, column: usize) -> Position {
    Position { line, column }
}

/// (Go template, what Go renders).
const RENDERED_AS_GO_RENDERS: &[(&str, &str)] = &[
    ("{{ .Project }}-{{ .Env }}/{{ .Namespace }}:{{ .Slot }}", "demo-ai/demo-ai:3"),
    ("a \n {{- .Project -}} \n b", "ademob"),
    ("{{/* comment */}}x{{- /* c2 */ -}} y", "xy"),
    ("a \n{{/*- c -*/}} b", "a \n b"),
    ("{{ .Versions.app }} {{ index .Versions \"a-b\" }} {{ index .Versions \"web\" }}", "1.2 x 2.0"),
    ("{{ .Vars.REGISTRY }}/{{ index .Vars \"REGISTRY\" }}/{{ .EnvMap.REGISTRY }}/{{ .UserVars.REGISTRY }}", "r.test/r.test/r.test/r.test"),
    ("{{ envOr \"EMPTY\" \"fallback\" }} {{ envOr \"REGISTRY\" \"x\" }} {{ envOr \"SPACE\" (printf \"%s-d\" .Project) }}", "fallback r.test demo-d"),
    ("{{ .BaseDomain.ai }} {{ index .BaseDomain \"ai\" }} {{ .Storage.db.size }}", "ai.test ai.test 1Gi"),
    ("{{ default \"d\" .Vars.EMPTY }} {{ .Vars.REGISTRY | default \"d\" }} {{ .Vars.SPACE | default \"d\" }}", "d r.test d"),
    ("{{ toLower \"AbC\" }} {{ slug \" My_App Name \" }} {{ truncSHA \"0123456789abcdef\" }} {{ truncSHA \"abc\" }}", "abc my-app-name 0123456789ab abc"),
    ("{{ ternary (eq .Env \"ai\") \"yes\" \"no\" }} {{ ternary false 1 2 }}", "yes 2"),
    ("{{ indent 2 \"a\\n\\nb\\n\" }}|", "  a\n  \n  b\n  |"),
    ("{{ trimPrefix \"v1.2\" \"v\" }} {{ trimPrefix \"vv1\" \"v\" }}", "1.2 v1"),
    ("{{ printf \"%s-%d-%v %%\" .Project 5 .Env }}", "demo-5-ai %"),
    ("{{ printf \"%q\" .Project }} {{ .Env | printf \"%q\" }} {{ printf \"%q\" \"a\\\"b\\\\c\" }}", "\"demo\" \"ai\" \"a\\\"b\\\\c\""),
    ("{{ eq .Env \"ai\" }} {{ eq .Env \"x\" \"ai\" }} {{ ne .Env \"ai\" }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt 1 2 }} {{ ge 3 2 }}", "true true false true true false true"),
    ("{{ and .Env .Project }} {{ and .Vars.EMPTY .Project }}|{{ or .Vars.EMPTY \"fb\" }} {{ or .Env \"fb\" }} {{ not .Vars.EMPTY }}", "demo |fb ai true"),
    ("{{ len .Project }} {{ len .Versions }}", "4 3"),
    ("{{ print .Project }} {{ print 3 }}", "demo 3"),
    ("{{ if eq .Env \"ai\" }}A{{ else if eq .Env \"b\" }}B{{ else }}C{{ end }}", "A"),
    ("{{ if eq .Env \"x\" }}A{{ else if eq .Env \"ai\" }}B{{ else }}C{{ end }}", "B"),
    ("{{- if .Vars.EMPTY }}yes{{ else -}}\n  no\n{{- end }}", "no"),
    ("{{ range $k, $v := .Versions }}{{ $k }}={{ $v }};{{ end }}", "a-b=x;app=1.2;web=2.0;"),
    ("{{ range .Versions }}[{{ . }}]{{ end }}", "[x][1.2][2.0]"),
    ("{{ range $v := .Versions }}<{{ $v }}>{{ end }}", "<x><1.2><2.0>"),
    ("{{ with .Vars.REGISTRY }}reg={{ . }}{{ end }}{{ with .Vars.EMPTY }}no{{ else }}empty{{ end }}", "reg=r.testempty"),
    ("{{ with $r := .Vars.REGISTRY }}{{ $r }}/{{ . }}{{ end }}", "r.test/r.test"),
    ("{{ $x := .Project }}{{ $x }}-{{ $x = \"new\" }}{{ $x }}", "demo-new"),
    ("{{ $env := \"shadow\" }}{{ $env }}-{{ .Env }}", "shadow-ai"),
    ("{{ \"{{\" }} x {{ \"}}\" }} {% raw %} {# c #}", "{{ x }} {% raw %} {# c #}"),
    ("{{ (printf \"%s.%s\" .Project .Env) }} {{ (.Versions).app }}", "demo.ai 1.2"),
    ("{{ printf \"%s\" (toLower (printf \"%s-X\" .Project)) }}", "demo-x"),
    ("{{ `raw\\n` }} {{ \"tab\\tq\\\"\" }} {{ 'a' }} {{ 0x1F }} {{ 1.5 }} {{ -3 }}", "raw\\n tab\tq\" 97 31 1.5 -3"),
    ("{{ range $i, $v := .Vars.LIST }}{{ $i }}:{{ $v }} {{ end }}", "0:a 1:b 2:c "),
    ("{{ range .Vars.LIST }}{{ if eq . \"b\" }}{{ continue }}{{ end }}{{ if eq . \"c\" }}{{ break }}{{ end }}{{ . }}{{ end }}", "a"),
    ("{{ range .Vars.NOTHING }}x{{ else }}empty{{ end }}", "empty"),
    ("{{ join .Vars.LIST \"-\" }}", "a-b-c"),
    ("{{ index .Vars.LIST 1 }}", "b"),
    ("{{ $.Project }}{{ range .Vars.LIST }}{{ $.Env }}{{ end }}", "demoaiaiai"),
    ("{{ if and (eq .Env \"ai\") (not .Vars.EMPTY) }}both{{ end }}{{ if or .Vars.EMPTY (eq 1 1) }}either{{ end }}", "botheither"),
    ("{{ eq (len .Project) 4 }}", "true"),
    ("{{ printf \"%s-%s\" .Project (default \"x\" .Vars.EMPTY) }}", "demo-x"),
    ("{{ .Vars.N }}", "3"),
    ("x{{ if .Vars.ON }} {{- .Project -}} {{ end }}y", "xdemoy"),
    ("{{ $loop := 1 }}{{ $item := 2 }}{{ range .Vars.LIST }}{{ $loop }}{{ $item }}{{ . }}{{ end }}", "12a12b12c"),
    ("{{ $n := 0 }}{{ range .Vars.LIST }}{{ $n = . }}{{ end }}{{ $n }}", "c"),
    ("{{ printf \"%s\" \"{{ x }}\" }}", "{{ x }}"),
    ("{{ if eq .Env \"ai\" -}}  \n  yes  \n  {{- end }}", "yes"),
    ("{{ printf \"'%s\\\"`\" .Project }}", "'demo\"`"),
    ("{{ or .Vars.EMPTY .Vars.SPACE \"last\" }}", "  "),
    ("{{ and 1 0 2 }}", "0"),
    ("a{ {{- .Project }}}", "a{demo}"),
    ("{{ range $i, $a := .Vars.LIST }}{{ range $j, $b := $.Vars.LIST }}{{ $i }}{{ $j }} {{ end }}{{ end }}", "00 01 02 10 11 12 20 21 22 "),
    ("{{ range $i, $v := .Vars.LIST }}{{ range $.Vars.LIST }}{{ $i }}{{ end }}{{ end }}", "000111222"),
    ("{{ if .Vars.ON }}{{ $a := 1 }}{{ $a }}{{ end }}", "1"),
    ("{{ \"a\" | printf \"%s-%s\" .Env }}", "ai-a"),
    ("{{ .Project | printf \"%s\" | toLower }}", "demo"),
    ("{{ with .Versions }}{{ .app }}{{ end }}", "1.2"),
    ("{{ range $k, $v := .Vars.LIST }}{{ $k }}{{ end }}", "012"),
    ("{{ if and (or .Vars.EMPTY .Vars.ON) (eq 1 1) }}yes{{ end }}", "yes"),
    ("{{ if or (and .Vars.ON .Vars.EMPTY) (eq 1 2) }}yes{{ else }}no{{ end }}", "no"),
    ("{{ not (and .Vars.ON .Vars.EMPTY) }} {{ not (not .Vars.ON) }}", "true true"),
    ("{{ printf \"%v-%v-%v\" (eq 1 1) true (not true) }}", "true-true-false"),
    ("{{ 1e3 }} {{ 1.0 }} {{ 0.25 }} {{ -2.50 }}", "1000 1 0.25 -2.5"),
    ("{{ with default \"x\" .Vars.EMPTY }}[{{ . }}]{{ end }}{{ with printf \"%s-%s\" .Env .Env }}{{ with toLower . }}<{{ . }}>{{ end }}{{ end }}", "[x]<ai-ai>"),
];

#[test]
fn translations_render_what_go_renders() {
    for (go, expected) in RENDERED_AS_GO_RENDERS {
        assert_eq!(render(go), *expected, "{go:?} → {:?}", translate(go, &codexctl()).map(|t| t.text));
    }
}

#[test]
fn errors_name_their_kind_and_position() {
    let cases: &[(&str, TemplateErrorKind, Position, &str)] = &[
        ("ab\n {{ .Project", TemplateErrorKind::Parse, at(2, 2), "unclosed action"),
        ("{{ \"abc }}", TemplateErrorKind::Parse, at(1, 4), "unterminated quoted string"),
        ("{{ `abc }}", TemplateErrorKind::Parse, at(1, 4), "unterminated raw"),
        ("x\n{{/* abc }}", TemplateErrorKind::Parse, at(2, 1), "unclosed comment"),
        ("x {{ upper .Env }}", TemplateErrorKind::UnknownFunction, at(1, 6), "\"upper\""),
        ("{{ .Env | quote }}", TemplateErrorKind::UnknownFunction, at(1, 11), "\"quote\""),
        ("a{{ end }}", TemplateErrorKind::Parse, at(1, 5), "unexpected {{end}}"),
        ("a{{ else }}", TemplateErrorKind::Parse, at(1, 5), "unexpected {{else}}"),
        ("x\n  {{ if .Env }}x", TemplateErrorKind::Parse, at(2, 3), "missing {{end}}"),
        ("{{ range .Versions }}{{ if .Env }}{{ end }}", TemplateErrorKind::Parse, at(1, 1), "missing {{end}}"),
        ("{{ define \"x\" }}y{{ end }}", TemplateErrorKind::NotTranslatable, at(1, 4), "define"),
        ("{{ template \"x\" }}", TemplateErrorKind::NotTranslatable, at(1, 4), "template"),
        ("{{ block \"x\" . }}y{{ end }}", TemplateErrorKind::NotTranslatable, at(1, 4), "block"),
        ("{{ if .Env }}{{ else with .Env }}{{ end }}", TemplateErrorKind::NotTranslatable, at(1, 17), "else with"),
        ("{{ (.Env }}", TemplateErrorKind::Parse, at(1, 4), "unclosed left paren"),
        ("{{ .Env) }}", TemplateErrorKind::Parse, at(1, 8), "unexpected \")\""),
        ("{{ }}", TemplateErrorKind::Parse, at(1, 4), "missing value"),
        ("{{ $nope }}", TemplateErrorKind::Parse, at(1, 4), "undefined variable $nope"),
        ("{{ .Env .Project }}", TemplateErrorKind::Parse, at(1, 4), "non-function"),
        ("{{ 12abc }}", TemplateErrorKind::Parse, at(1, 4), "bad number"),
        ("{{ .ProjectRoot }}", TemplateErrorKind::NotTranslatable, at(1, 4), ".ProjectRoot"),
        ("{{ .Now }}", TemplateErrorKind::NotTranslatable, at(1, 4), "clock"),
        ("{{ now }}", TemplateErrorKind::NotTranslatable, at(1, 4), "clock"),
        ("{{ .CodexRun }}", TemplateErrorKind::NotTranslatable, at(1, 4), ".CodexRun"),
        ("{{ .IssueComments }}", TemplateErrorKind::NotTranslatable, at(1, 4), "issue tracker"),
        ("{{ .Other }}", TemplateErrorKind::NotTranslatable, at(1, 4), ".Other"),
        ("{{ . }}", TemplateErrorKind::NotTranslatable, at(1, 4), "whole context"),
        ("{{ index .BaseDomain .Env }}", TemplateErrorKind::NotTranslatable, at(1, 22), "computed key"),
        ("{{ .BaseDomain }}", TemplateErrorKind::NotTranslatable, at(1, 4), "BaseDomain"),
        ("{{ printf \"%5s\" .Env }}", TemplateErrorKind::NotTranslatable, at(1, 11), "%5"),
        ("{{ printf \"%x\" .Env }}", TemplateErrorKind::NotTranslatable, at(1, 11), "%x"),
        ("{{ printf .Env }}", TemplateErrorKind::NotTranslatable, at(1, 11), "literal"),
        ("{{ printf \"%s %s\" .Env }}", TemplateErrorKind::NotTranslatable, at(1, 4), "2 arguments"),
        ("{{ envOr .Env \"x\" }}", TemplateErrorKind::NotTranslatable, at(1, 10), "string literal"),
        ("{{ toLower }}", TemplateErrorKind::NotTranslatable, at(1, 4), "toLower takes 1 argument"),
        ("{{ nil }}", TemplateErrorKind::NotTranslatable, at(1, 4), "nil"),
        ("{{ if .Env }}{{ break }}{{ end }}", TemplateErrorKind::Parse, at(1, 17), "outside {{range}}"),
        ("{{ 1e6 }}", TemplateErrorKind::NotTranslatable, at(1, 4), "exponent"),
        ("{{ range .Vars }}{{ end }}", TemplateErrorKind::NotTranslatable, at(1, 10), ".Vars as a whole"),
    ];
    for (go, kind, position, needle) in cases {
        let error = error_of(go);
        assert_eq!((error.kind, error.position), (*kind, *position), "{go:?}: {error}");
        assert!(error.message.contains(needle), "{go:?}: {error}");
    }
    let deep = format!("{{{{ {}.Env{} }}}}", "(".repeat(100), ")".repeat(100));
    assert_eq!(error_of(&deep).kind, TemplateErrorKind::TooDeep);
    let deep = "{{ if .Env }}".repeat(100);
    assert_eq!(error_of(&deep).kind, TemplateErrorKind::TooDeep);
    let fine = format!("{{{{ {}.Env{} }}}}", "(".repeat(30), ")".repeat(30));
    assert_eq!(render(&fine), "ai");
    assert_eq!(error_of("{{ .Env }").to_string(), "1:9: unexpected '}' in action");
}

#[test]
fn inputs_are_recorded_with_names_kinds_defaults_and_positions() {
    let go = "{{ .Vars.A }}{{ envOr \"B\" \"d\" }}\n {{ .BaseDomain.ai }}{{ index .Storage \"db\" \"size\" }}{{ .EnvMap.C }}\
              {{ envOr \"D\" .Env }}{{ index .UserVars \"a-b\" }}{{ index .BaseDomain \"ai.x\" }}";
    let translation = translate(go, &codexctl()).unwrap();
    let uses: Vec<(&str, InputKind, Option<&str>, Position)> = translation
        .inputs
        .iter()
        .map(|u| (u.name.as_str(), u.kind, u.literal_default.as_deref(), u.position))
        .collect();
    assert_eq!(
        uses,
        vec![
            ("A", InputKind::Variable, None, at(1, 4)),
            ("B", InputKind::Variable, Some("d"), at(1, 17)),
            ("baseDomain_ai", InputKind::BaseDomain, None, at(2, 5)),
            ("storage_db_size", InputKind::Storage, None, at(2, 31)),
            ("C", InputKind::Variable, None, at(2, 57)),
            ("D", InputKind::Variable, None, at(2, 72)),
            ("a-b", InputKind::Variable, None, at(2, 98)),
            ("baseDomain_ai_x", InputKind::BaseDomain, None, at(2, 125)),
        ]
    );
    assert!(translation.text.contains("inputs[\"a-b\"]"), "{}", translation.text);
}

#[test]
fn known_variables_are_context_values_not_inputs() {
    let mut scope = codexctl();
    scope.known_vars.insert("KODEX_NAMESPACE".into(), "namespace".into());
    scope.known_vars.insert("KODEX_FULL".into(), "project ~ \"-\" ~ env".into());
    let go = "{{ .Vars.KODEX_NAMESPACE }} {{ envOr \"KODEX_NAMESPACE\" \"x\" }} {{ index .EnvMap \"KODEX_FULL\" }}";
    assert_eq!(render_with(go, &scope), "demo-ai demo-ai demo-ai");
    assert!(translate(go, &scope).unwrap().inputs.is_empty());
}

const HEADER: &str = "# {{- $workspacePVC := envOr \"CODEXCTL_WORKSPACE_PVC\" (printf \"%s-workspace\" .Project) -}}
# {{- $domain := printf \"%s.%s\" .Env (envOr \"BASE_DOMAIN\" \"example.test\") -}}
project: demo
{{ if .Env }}{{ $inner := 1 }}{{ end }}
";

#[test]
fn file_variables_translate_the_top_level_declarations() {
    let (variables, inputs) = file_variables(HEADER, &codexctl()).unwrap();
    assert_eq!(variables.keys().collect::<Vec<_>>(), ["domain", "workspacePVC"]);
    assert_eq!(variables["workspacePVC"], "inputs.CODEXCTL_WORKSPACE_PVC | if_empty(value=project ~ \"-workspace\")");
    let names: Vec<(&str, Option<&str>, Position)> =
        inputs.iter().map(|u| (u.name.as_str(), u.literal_default.as_deref(), u.position)).collect();
    assert_eq!(
        names,
        vec![("CODEXCTL_WORKSPACE_PVC", None, at(1, 24)), ("BASE_DOMAIN", Some("example.test"), at(2, 39))]
    );
    // The importer puts them in the scope of every template of the file.
    let scope = Scope { variables, ..codexctl() };
    assert_eq!(
        render_with("{{ $workspacePVC }} {{ $domain }} {{ $domain | toLower }}", &scope),
        "demo-workspace ai.example.test ai.example.test"
    );
    // The file itself translates as well: its declarations become tera variables.
    assert_eq!(render_with(HEADER, &codexctl()), "##project: demo\n\n");
}

#[test]
fn a_later_file_variable_may_read_an_earlier_one() {
    let (variables, _) = file_variables("{{ $a := .Project }}{{ $b := printf \"%s-b\" $a }}", &codexctl()).unwrap();
    assert_eq!(variables["b"], "project ~ \"-b\"");
}

#[test]
fn translate_twice_evaluates_what_the_first_pass_writes() {
    let scope = codexctl();
    let twice = |go: &str| {
        let translation = translate_twice(go, &scope).unwrap_or_else(|e| panic!("{go:?}: {e}"));
        render_str(&translation.text, &context()).unwrap()
    };
    assert_eq!(twice("{{ .Env }}-{{\"{{\"}} .Vars.REGISTRY {{\"}}\"}}"), "ai-r.test");
    assert_eq!(twice("{{ .Env }} {{- \"{{\" }} .Project }}"), "aidemo");
    assert_eq!(twice("{{ if .Env }}{{ \"{{\" }} .Slot {{ \"}}\" }}{{ end }}"), "3");
    // Without such literals it is one translation.
    assert_eq!(translate_twice("a{{ .Env }}", &scope).unwrap(), translate("a{{ .Env }}", &scope).unwrap());
    let inputs = translate_twice("{{\"{{\"}} .Vars.X {{\"}}\"}}", &scope).unwrap().inputs;
    assert_eq!(inputs.len(), 1);
    let error = translate_twice("{{\"{{\"}} if .Env {{\"}}\"}}", &scope).unwrap_err();
    assert_eq!(error.kind, TemplateErrorKind::NotTranslatable, "{error}");
    assert!(error.message.contains("first rendering pass"), "{error}");
}

#[test]
fn conditions_render_exactly_true_or_false() {
    use crate::config::template::render_condition;
    let prepared = context().prepare();
    let codexctl = codexctl();
    let cases: &[(&str, bool)] = &[
        ("{{ eq .Env \"ai\" }}", true),
        ("{{ eq .Env \"x\" }}", false),
        ("", true),
        ("  ", true),
        (" No ", false),
        ("FALSE", false),
        ("0", false),
        ("{{ .Vars.EMPTY }}", true),
        ("{{ .Vars.ON }}", true),
        ("{{ if .Vars.EMPTY }}yes{{ else }}no{{ end }}", false),
        ("{{\"{{\"}} .Vars.EMPTY {{\"}}\"}}", true),
    ];
    for (go, expected) in cases {
        let text = translate_condition(go, &codexctl).unwrap().text;
        assert_eq!(render_str(&text, &context()).unwrap(), expected.to_string(), "{go:?}");
        assert_eq!(render_condition(&text, &prepared), Ok(*expected), "{go:?}");
    }
    let service_stack = Scope::new(Dialect::ServiceStack);
    for (go, expected) in
        [("T", true), ("1", true), ("{{ .Vars.ON }}", true), ("False", false), ("{{ eq 1 2 }}", false)]
    {
        let text = translate_condition(go, &service_stack).unwrap().text;
        assert_eq!(render_condition(&text, &prepared), Ok(expected), "{go:?}");
    }
    let text = translate_condition("maybe", &service_stack).unwrap().text;
    let error = render_condition(&text, &prepared).unwrap_err();
    assert!(error.contains("\"maybe\""), "{error}");
}

#[test]
fn dialects_differ_in_the_order_of_trim_prefix() {
    let service_stack = Scope::new(Dialect::ServiceStack);
    assert_eq!(render_with("{{ trimPrefix \"v\" \"vv1.2\" }}", &service_stack), "v1.2");
    assert_eq!(render_with("{{ \"v1\" | trimPrefix \"v\" }}", &service_stack), "1");
    assert_eq!(render("{{ \"v\" | trimPrefix \"vv1\" }}"), "v1");
}

#[test]
fn text_that_tera_would_read_stays_literal() {
    for text in ["{% endraw %} {# y #}", "a{", "{%{%%}", "{#- -#}{%- raw -%}", "\u{a0}x\u{a0}"] {
        let go = format!("{text} {{{{- .Env }}}}{text}");
        assert_eq!(render(&format!("{{{{- \"\" -}}}}{go}")), format!("{text}ai{text}"), "{text:?}");
    }
    assert_eq!(render("\u{a0} {{- .Env -}} \u{a0}"), "\u{a0}ai\u{a0}");
    assert!(is_go_template("a {{ x }}"));
    assert!(!is_go_template("a {% x %}"));
}

#[test]
fn variables_are_renamed_away_from_tera_names() {
    let translation =
        translate("{{ $env := 1 }}{{ $loop := 2 }}{{ $item := 3 }}{{ $env }}{{ $loop }}{{ $item }}", &codexctl())
            .unwrap();
    assert!(translation.text.contains("set env_ = 1"), "{}", translation.text);
    assert!(translation.text.contains("set loop_ = 2"), "{}", translation.text);
    assert!(translation.text.contains("set item_ = 3"), "{}", translation.text);
    assert_eq!(render_str(&translation.text, &context()).unwrap(), "123");
}

#[test]
fn trim_markers_are_kept_on_the_tera_tags() {
    let text = translate("a {{- .Env -}} b {{- if .Env -}} c {{- else -}} d {{- end -}} {{- /* x */ -}}", &codexctl())
        .unwrap()
        .text;
    assert_eq!(text, "a{{- env -}}b{%- if env -%}c{%- else -%}d{%- endif -%}{#- x -#}");
}

/// A tiny deterministic generator (xorshift), so the fuzz cases are the same on every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn no_input_makes_the_translator_panic() {
    const FRAGMENTS: &[&str] = &[
        "{{", "}}", "{{- ", " -}}", "/*", "*/", "(", ")", "|", " ", "\n", "$", "$x", ":=", "=", ",", ".", ".A",
        ".Vars", ".X", "\"", "`", "'", "\\", "if", "else", "end", "range", "with", "break", "continue", "define",
        "printf", "\"%s\"", "index", "eq", "and", "not", "default", "envOr", "-", "0x", "1e", "é", "{%", "{#", "#}",
        "%}", "{",
    ];
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let scopes = [codexctl(), Scope::new(Dialect::ServiceStack)];
    let mut inputs: Vec<String> = vec![];
    for (go, _) in RENDERED_AS_GO_RENDERS {
        for (cut, _) in go.char_indices() {
            inputs.push(go[..cut].to_string());
        }
    }
    for _ in 0..3000 {
        let (go, _) = RENDERED_AS_GO_RENDERS[random.below(RENDERED_AS_GO_RENDERS.len())];
        let mut mutated: Vec<char> = go.chars().collect();
        for _ in 0..1 + random.below(4) {
            let at = random.below(mutated.len() + 1);
            match random.below(3) {
                0 if at < mutated.len() => {
                    mutated.remove(at);
                }
                _ => {
                    let fragment = FRAGMENTS[random.below(FRAGMENTS.len())];
                    for (i, c) in fragment.chars().enumerate() {
                        mutated.insert((at + i).min(mutated.len()), c);
                    }
                }
            }
        }
        inputs.push(mutated.into_iter().collect());
        let random_text: String = (0..random.below(20)).map(|_| FRAGMENTS[random.below(FRAGMENTS.len())]).collect();
        inputs.push(random_text);
    }
    inputs.push("{{ (".repeat(5000));
    inputs.push("{{ if . }}".repeat(5000));
    for go in &inputs {
        for scope in &scopes {
            let _ = translate(go, scope);
            let _ = translate_twice(go, scope);
            let _ = translate_condition(go, scope);
            let _ = file_variables(go, scope);
            if let Ok(translation) = translate(go, scope) {
                // Whatever the translator writes, tera reads without crashing.
                let _ = render_str(&translation.text, &context());
            }
        }
    }
    assert!(inputs.len() > 3000);
}

#[test]
fn a_manifest_translates_to_readable_tera() {
    let go = r#"metadata:
  name: {{ .Project }}-web
  namespace: {{ .Namespace }}
spec:
  {{- range $i, $v := .Vars.LIST }}
  - {{ $i }}: {{ $v | toLower }}
  {{- end }}
  host: {{ printf "%s.%s" .Env (envOr "BASE_DOMAIN" "example.test") }}
  {{- with .Vars.REGISTRY }}
  image: {{ . }}/web:{{ index $.Versions "app" | default "latest" }}
  {{- end }}
"#;
    let translation = translate(go, &codexctl()).unwrap();
    let expected = "metadata:\n  name: {{ project }}-web\n  namespace: {{ namespace }}\nspec:\
        {%- for v in inputs.LIST %}{% set i = loop.index0 %}\n  - {{ i }}: {{ v | lower }}{%- endfor %}\n  \
        host: {{ env ~ \".\" ~ value(of=inputs.BASE_DOMAIN | if_empty(value=\"example.test\")) }}\
        {%- if inputs.REGISTRY %}\n  image: {{ inputs.REGISTRY }}/web:{{ versions.app | if_empty(value=\"latest\") }}\
        {%- endif %}\n";
    assert_eq!(translation.text, expected);
    let go_rendered = "metadata:\n  name: demo-web\n  namespace: demo-ai\nspec:\n  - 0: a\n  - 1: b\n  - 2: c\n  \
        host: ai.example.test\n  image: r.test/web:1.2\n";
    assert_eq!(render_str(&translation.text, &context()).unwrap(), go_rendered);
}
