use super::*;

fn context() -> TemplateContext {
    TemplateContext {
        project: "codex".into(),
        env: "ai".into(),
        issue: "19".into(),
        versions: [("app".to_string(), "2.1".to_string()), ("0".to_string(), "zero".to_string())].into(),
        images: [("web".to_string(), "r.test/web:<1>&\"x\"".to_string())].into(),
        ..Default::default()
    }
}

#[test]
fn renders_variables_and_conditions() {
    assert_eq!(render_str("{{ project }}-{{ env }}-{{ issue }}", &context()).unwrap(), "codex-ai-19");
    assert!(render_condition("{{ env == 'ai' }}", &context().prepare()).unwrap());
    assert!(render_condition("maybe", &context().prepare()).is_err());
}

#[test]
fn reports_broken_templates() {
    let err = render_str("{{ project", &context()).unwrap_err();
    assert!(err.starts_with("template error"), "{err}");
    let err = render_str("{{ nothing_here }}", &context()).unwrap_err();
    assert!(err.contains("nothing_here"), "{err}");
}

#[test]
fn plain_variables_render_exactly_as_tera_renders_them() {
    let prepared = context().prepare();
    let cases = [
        "{{ project }}",
        "{{project}}-{{\tenv\n}}",
        "a } b }} {{ issue }} c }",
        "{{ versions.app }}/{{ versions.0 }}",
        "{{ images.web }}\n",
        "x{{{ project }}",
        "{{ slot }}{{ namespace }}.",
        "{{- project }}",
        "{{ project -}} x",
        "{{ project | upper }}",
        "{{ versions }}",
        "{{ versions.missing }}",
        "{{ missing }}",
        "{{ _ }}",
        "{{ true }}",
        "{{ 1 }}",
        "{{ }}",
        "{{ project }",
        "{{ project }}{# c #}",
    ];
    for text in cases {
        let fast = substitute_plain_variables(text, &prepared.context);
        let tera = render_with_tera(text, &prepared.context);
        if let Some(fast) = fast {
            assert_eq!(Ok(fast), tera, "{text:?}");
        }
        assert_eq!(render_prepared(text, &prepared), tera, "{text:?}");
    }
    assert!(substitute_plain_variables("{{ project }}-{{ versions.app }}", &prepared.context).is_some());
}

#[test]
fn deep_nesting_is_refused_before_tera_sees_it() {
    let deep = format!("{{{{ {}1{} }}}}", "(".repeat(10_000), ")".repeat(10_000));
    let err = render_str(&deep, &context()).unwrap_err();
    assert!(err.contains("nesting limit is 64"), "{err}");
    let fine = format!("{{{{ {}1{} }}}}", "(".repeat(20), ")".repeat(20));
    assert_eq!(render_str(&fine, &context()).unwrap(), "1");
    let long = format!("{{{{ project }}}}{}", "x".repeat(MAX_TEMPLATE_BYTES));
    let err = render_str(&long, &context()).map(|_| "rendered").unwrap_err();
    assert!(err.contains("the limit is"), "{err}");
}

#[test]
fn functions_that_read_the_machine_or_the_clock_are_refused() {
    for text in [
        "{{ get_env(name='HOME') }}",
        "{{ get_env(name='NOPE', default='x') }}",
        "{{ now() }}",
        "{{ get_random(end=9) }}",
    ] {
        let err = render_str(text, &context()).unwrap_err();
        assert!(err.contains("is not available"), "{text}: {err}");
    }
}

#[test]
fn a_long_template_is_quoted_briefly_with_the_caret_in_place() {
    let text = format!("{{{{ project }}}} {} {{{{ project +  }}}} {}", "a".repeat(300), "b".repeat(300));
    let err = render_str(&text, &context()).unwrap_err();
    assert!(err.len() < 700, "{err}");
    assert!(err.contains("1:330"), "the location stays: {err}");
    let lines: Vec<&str> = err.lines().collect();
    let quoted = lines.iter().position(|l| l.starts_with("1 | ")).expect(&err);
    let caret = lines[quoted + 1].find('^').unwrap();
    let pointed: String = lines[quoted].chars().skip(caret).take(2).collect();
    assert_eq!(pointed, "}}", "{err}");
}

#[test]
fn go_filters_and_functions_have_go_meanings() {
    let mut context = context();
    context.inputs = serde_json::from_value(serde_json::json!({
        "blank": "  ", "empty": "", "set": "x", "zero": 0, "list": [], "map": {}, "text": "a\n\nb\n"
    }))
    .unwrap();
    let cases = [
        ("{{ inputs.blank | if_empty(value='d') }}|{{ inputs.empty | if_empty(value='d') }}", "d|d"),
        ("{{ inputs.set | if_empty(value='d') }}|{{ inputs.zero | if_empty(value='d') }}", "x|0"),
        ("{{ ' My_App Name ' | slug }}|{{ 'A' | slug }}", "my-app-name|a"),
        ("{{ 'vv1' | trim_prefix(prefix='v') }}|{{ 'x' | trim_prefix(prefix='v') }}", "v1|x"),
        ("[{{ inputs.text | indent_lines(width=2) }}]", "[  a\n  \n  b\n  ]"),
        ("[{{ '' | indent_lines(width=3) }}]", "[   ]"),
        ("{{ ternary(cond=inputs.zero, yes=1, no=2) }}{{ ternary(cond=inputs.list, yes=1, no=2) }}", "22"),
        ("{{ ternary(cond=inputs.map, yes=1, no=2) }}{{ ternary(cond=inputs.set, yes=1, no=2) }}", "21"),
        ("{{ ternary(cond=inputs.empty, yes=1, no=2) }}{{ ternary(cond=true, yes='a', no='b') }}", "2a"),
        ("{{ value(of=project | upper) ~ '-' ~ value(of=1 + 1) }}", "CODEX-2"),
        ("{{ value(of=1 == 1) }}|{{ value(of=value(of=1 == 1) | as_str) ~ '!' }}", "true|true!"),
        ("{% filter codexctl_bool %} No {% endfilter %}|{% filter codexctl_bool %}{% endfilter %}", "false|true"),
        ("{% filter codexctl_bool %}0{% endfilter %}|{% filter codexctl_bool %}yes{% endfilter %}", "false|true"),
        ("{% filter parse_bool %}T{% endfilter %}|{% filter parse_bool %}0{% endfilter %}", "true|false"),
    ];
    for (text, expected) in cases {
        assert_eq!(render_str(text, &context).as_deref(), Ok(expected), "{text}");
    }
    let err = render_str("{% filter parse_bool %}yes{% endfilter %}", &context).unwrap_err();
    assert!(err.contains("\"yes\""), "{err}");
    let err = render_str("{{ 'x' | indent_lines(width=99999) }}", &context).unwrap_err();
    assert!(err.contains("width"), "{err}");
    // Tera reports an undefined variable before any filter sees it: an input a template
    // reads must be declared, even when it has a default.
    assert!(render_str("{{ inputs.undeclared | if_empty(value='d') }}", &context).is_err());
}

#[test]
fn a_panic_inside_tera_is_an_error_and_the_next_render_works() {
    let err = render_str("{{ 1 % 0 }}", &context()).expect_err("a modulo by zero is an error");
    assert!(!err.trim().is_empty(), "the error says why");
    assert_eq!(render_str("{{ project ~ '!' }}", &context()).unwrap(), "codex!");
}
