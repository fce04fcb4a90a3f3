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
        ("{{ printf \"%q\" .Env }}", TemplateErrorKind::NotTranslatable, at(1, 11), "%q"),
        ("{{ printf .Env }}", TemplateErrorKind::NotTranslatable, at(1, 11), "literal"),
        ("{{ printf \"%s %s\" .Env }}", TemplateErrorKind::NotTranslatable, at(1, 4), "2 arguments"),
        ("{{ envOr .Env \"x\" }}", TemplateErrorKind::NotTranslatable, at(1, 10), "string literal"),
        ("{{ toLower }}", TemplateErrorKind::NotTranslatable, at(1, 4), "toLower takes 1 argument"),
        ("{{ nil }}", TemplateErrorKind::NotTranslatable, at(1, 4), "nil"),
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
