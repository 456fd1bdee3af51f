use super::*;

fn answers(server_url: &str) -> Answers {
    Answers { server_url: server_url.into(), token: "tok-abc123".into(), ..Answers::default() }
}

#[test]
fn the_port_follows_the_protocol_and_the_url_may_carry_scheme_and_port() {
    let r = answers("servicedesk.example.com").resolve().unwrap();
    assert_eq!((r.protocol.as_str(), r.host.as_str(), r.port), ("https", "servicedesk.example.com", 443));
    let http = Answers { protocol: "HTTP".into(), ..answers("sd.example.com") }.resolve().unwrap();
    assert_eq!((http.protocol.as_str(), http.port), ("http", 80));
    let url = answers("http://127.0.0.1:8080/portal").resolve().unwrap();
    assert_eq!((url.protocol.as_str(), url.host.as_str(), url.port), ("http", "127.0.0.1", 8080));
    let v6 = answers("https://[::1]:8443").resolve().unwrap();
    assert_eq!((v6.host.as_str(), v6.port), ("[::1]", 8443));
    assert_eq!(r.storage, crate::platform::paths::default_storage());
}

#[test]
fn contradictions_and_bad_values_name_the_property() {
    let e = |a: Answers| a.resolve().unwrap_err();
    assert_eq!(e(Answers { protocol: "http".into(), ..answers("https://x.example") }).field, "PROTOCOL");
    assert_eq!(e(Answers { port: "80".into(), ..answers("x.example:443") }).field, "PORT");
    assert_eq!(e(Answers { port: "70000".into(), ..answers("x.example") }).field, "PORT");
    assert_eq!(e(Answers { protocol: "ftp".into(), ..answers("x.example") }).field, "PROTOCOL");
    assert_eq!(e(answers("bad host")).field, "SERVER_URL");
    assert_eq!(e(Answers { token: String::new(), ..answers("x.example") }).field, "TOKEN");
    let both = Answers { token_file: "/nonexistent".into(), ..answers("x.example") };
    assert_eq!(e(both).field, "TOKEN");
    let quote = Answers { token: "a\"b".into(), ..answers("x.example") };
    let err = e(quote);
    assert_eq!(err.field, "TOKEN");
    assert!(!err.to_string().contains("a\"b"), "the token is never echoed: {err}");
}

#[test]
fn a_token_file_gives_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "  tok-from-file \nsecond line\n").unwrap();
    let a = Answers { token: String::new(), token_file: file.to_string_lossy().into_owned(), ..answers("x.example") };
    assert_eq!(a.resolve().unwrap().token, "tok-from-file");
    std::fs::write(&file, "\n").unwrap();
    assert_eq!(a.resolve().unwrap_err().field, "TOKEN_FILE");
}

#[test]
fn the_written_config_loads_with_the_answers_and_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("conf").join("connector.toml");
    let storage = dir.path().join("storage with space");
    let a = Answers { storage_path: storage.to_string_lossy().into_owned(), ..answers("http://127.0.0.1:9") };
    write_config(&config, &a.resolve().unwrap()).unwrap();
    assert_eq!(crate::platform::perms::exposure(&config, Kind::Secret).unwrap(), None);
    let s = crate::config::load(&config, &crate::config::ProcessEnv).unwrap();
    assert_eq!(s.queue.path, storage);
    assert!(s.link.base_url.as_str().starts_with("http://127.0.0.1:9/"), "{}", s.link.base_url);
    assert_eq!(storage_of(&config).unwrap(), storage);
    // remove-data deletes both, and the emptied config folder.
    std::fs::create_dir_all(&storage).unwrap();
    assert_eq!(remove_data(&config, &Answers::default()).unwrap(), exit::OK);
    assert!(!storage.exists() && !config.exists() && !config.parent().unwrap().exists());
}
