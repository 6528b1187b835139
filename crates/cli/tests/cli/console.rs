//! The console end to end: the real `coopledger console` over a demo ledger, driven in
//! headless Chromium (Debian's `chromium` and `chromium-driver`, which `.ci/run`
//! installs) through WebDriver. Every page in every language; filter, paginate, a case as
//! of an earlier record, a printed dossier; what the pages say is checked against the
//! CLI's JSON for the same ledger. Screenshots go to `target/console-screenshots/`.

// In test code a panic is a failed test.
use crate::support::{bin, json, p};
use fantoccini::{Client, ClientBuilder, Locator};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `coopledger console PATH` on a free port; returns it and its base URL.
fn console(path: &Path) -> (Running, String) {
    start(&["console", p(path), "--listen", "127.0.0.1:0", "--quiet"])
}

/// Starts the binary with `args` and reads its URL from the first line it prints.
fn start(args: &[&str]) -> (Running, String) {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut out = BufReader::new(out);
    let mut line = String::new();
    // The first line that names an address (a follower says other things first).
    while !line.contains("http://") {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "{args:?} ended without an address"
        );
    }
    // Keep reading what it prints, so that it never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    (Running(child), url)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// ChromeDriver on a free loopback port, and a headless Chromium session through it.
async fn browser(profile: &Path) -> (Running, Client) {
    let port = free_port();
    crate::support::require("chromedriver", "chromium-driver");
    crate::support::require("chromium", "chromium");
    let driver = Command::new("chromedriver")
        .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (Debian's chromium-driver; .ci/run installs it)");
    let driver = Running(driver);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The flags keep Chromium off the network it cannot reach (this machine's only
    // traffic is to 127.0.0.1) and let it run as root in a container.
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1366,900",
                format!("--user-data-dir={}", p(profile)),
            ],
        }
    });
    let caps = match caps {
        serde_json::Value::Object(m) => m,
        _ => unreachable!(),
    };
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a headless Chromium session");
    (driver, client)
}

/// The text of what `css` finds. An element found on a page that is being replaced goes
/// stale before its text is read; it is looked up again on the page that replaced it.
async fn text_of(c: &Client, css: &str) -> String {
    let started = Instant::now();
    loop {
        let found = c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        match found.text().await {
            Ok(text) => return text,
            Err(e) if gone(&e) && started.elapsed() < PAGE_WAIT => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{css}: {e}"),
        }
    }
}

/// Whether an element's page has been replaced. WebDriver says "stale element
/// reference"; chromedriver, caught while the new document is being attached, answers
/// instead an unknown error that the node "does not belong to the document" (CI once
/// failed so, right after a click that navigates).
fn gone(e: &fantoccini::error::CmdError) -> bool {
    e.is_stale_element_reference() || e.to_string().contains("does not belong to the document")
}

/// How long a page may take to replace the one before it.
const PAGE_WAIT: Duration = Duration::from_secs(30);

/// Clicks what `target` finds and returns once the page it leads to has replaced this
/// one: the old page's root element gone stale, the new one loaded. WebDriver's click does
/// not promise to wait for a navigation it starts (a form's submit can still be under way
/// when it returns), and a read in between reads the old page, or an element of it that
/// goes away while it is read (CI once failed so: a stale element after the document
/// search's submit).
async fn click_to_next_page(c: &Client, target: Locator<'_>) {
    let old = c.find(Locator::Css("html")).await.unwrap();
    c.find(target).await.unwrap().click().await.unwrap();
    let started = Instant::now();
    loop {
        match old.attr("lang").await {
            Err(e) if gone(&e) => break,
            Ok(_) => {}
            Err(e) => panic!("the old page: {e}"),
        }
        assert!(
            started.elapsed() < PAGE_WAIT,
            "the click did not lead to another page"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    while c
        .execute("return document.readyState", vec![])
        .await
        .unwrap()
        .as_str()
        != Some("complete")
    {
        assert!(started.elapsed() < PAGE_WAIT, "the next page did not load");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// axe-core (vendored, pinned by tests/cli/axe/MANIFEST), run on the page the browser
/// shows: no serious or critical WCAG 2 A/AA violation (issue 27).
async fn accessible(c: &Client, what: &str) {
    let found = violations(c).await;
    assert!(
        found.is_empty(),
        "{what}: accessibility violations:\n{}",
        found.join("\n")
    );
}

/// The serious and critical violations axe-core finds on the page shown.
async fn violations(c: &Client) -> Vec<String> {
    use sha2::Digest as _;
    static AXE: &str = include_str!("axe/axe.min.js");
    let pinned = include_str!("axe/MANIFEST")
        .lines()
        .find_map(|l| l.strip_suffix("  axe.min.js"))
        .unwrap();
    assert_eq!(
        hex::encode(sha2::Sha256::digest(AXE.as_bytes())),
        pinned,
        "axe.min.js is not the pinned file"
    );
    c.execute(&format!("{AXE}\n;return 1;"), vec![])
        .await
        .unwrap();
    let found = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
              .then((r) => done(r.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => v.id + " (" + v.impact + "): " + v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", "))));"#,
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

/// A key file, and its passphrase if it is protected.
type Key<'a> = (&'a Path, Option<&'a str>);
/// Types the key file's passphrase, if it has one.
async fn pass_for(c: &Client, key: Key<'_>) {
    if let Some(pass) = key.1 {
        c.find(Locator::Id("key-pass"))
            .await
            .unwrap()
            .send_keys(pass)
            .await
            .unwrap();
    }
}
/// Signs the act the compose page shows with `key`, in the browser, and waits for its
/// receipt, verified in the browser (`verified`: the verdict's first words).
async fn sign_here(c: &Client, key: Key<'_>, verified: &str) {
    assert!(
        c.find(Locator::Id("compose-ok")).await.is_ok(),
        "{}",
        text_of(c, "#main").await
    );
    c.find(Locator::Id("key-file"))
        .await
        .unwrap()
        .send_keys(p(key.0))
        .await
        .unwrap();
    pass_for(c, key).await;
    c.find(Locator::Id("sign-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let started = Instant::now();
    while c
        .find(Locator::Css("#receipt:not([hidden])"))
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no receipt: {}",
            text_of(c, "#sign-status").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let verdict = text_of(c, "#receipt-verified").await;
    assert!(verdict.starts_with(verified), "{verdict}");
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// The word for "Cases" and the test-ledger banner's first word, per language: what a
/// reader of that language sees.
const LANGS: [(&str, &str, &str); 4] = [
    ("ru", "Дела", "ТЕСТОВЫЙ"),
    ("kk", "Істер", "СЫНАҚ"),
    ("tk", "Işler", "SYNAG"),
    ("en", "Cases", "TEST"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_browser_shows_what_the_ledger_holds_in_four_languages() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    let o = bin()
        .args(["demo", "--data", p(&dir), "--cases", "120", "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let verified = json(&["verify", p(&dir), "--json", "--quiet"]);
    let ledger_id = verified["ledger_id"].as_str().unwrap().to_owned();
    let disputed = std::fs::read_to_string(dir.join("tour/disputed-case"))
        .unwrap()
        .trim()
        .to_owned();

    let (_console, url) = console(&dir);
    let (_driver, c) = browser(&tmp.path().join("profile")).await;

    // Every page in every language: the language's own words, the stamp that ties the
    // page to the verified ledger, and no message left as its id.
    let pages = [
        "/".to_owned(),
        "/cases".to_owned(),
        format!("/cases/{disputed}"),
        "/article7".to_owned(),
        "/registry".to_owned(),
        "/checkpoints".to_owned(),
        "/documents".to_owned(),
        "/inbox?for=TM-MVD".to_owned(),
        "/outbox?for=KZ-MVD".to_owned(),
    ];
    for (lang, cases_word, banner) in LANGS {
        for page in &pages {
            let sep = if page.contains('?') { '&' } else { '?' };
            c.goto(&format!("{url}{page}{sep}lang={lang}"))
                .await
                .unwrap();
            let html_lang = c
                .find(Locator::Css("html"))
                .await
                .unwrap()
                .attr("lang")
                .await
                .unwrap();
            assert_eq!(html_lang.as_deref(), Some(lang), "{page}");
            assert_eq!(
                text_of(&c, "nav a[href^='/cases']").await,
                cases_word,
                "{page} {lang}"
            );
            assert!(
                text_of(&c, ".banner.test").await.starts_with(banner),
                "{page} {lang}"
            );
            let stamp = text_of(&c, "#stamp").await;
            assert!(stamp.contains(&ledger_id), "{page} {lang}: {stamp}");
            let body = text_of(&c, "body").await;
            for id in [
                "nav-",
                "kind-",
                "status-",
                "category-",
                "a7-",
                "stamp-",
                "act-",
                "desk-",
            ] {
                assert!(
                    !body.split_whitespace().any(|w| w.starts_with(id)),
                    "{page} {lang}: a message id ({id}…) shown:\n{body}"
                );
            }
            accessible(&c, &format!("{page} {lang}")).await;
        }
        // The check sees what it must: an image without a text alternative is found.
        if lang == "en" {
            c.execute(
                "const i = document.createElement('img'); i.src = '/static/none.png'; document.body.appendChild(i); return 1;",
                vec![],
            )
            .await
            .unwrap();
            let found = violations(&c).await;
            assert!(
                found.iter().any(|v| v.starts_with("image-alt")),
                "{found:?}"
            );
        }
        // The language is remembered (a cookie) on pages opened without ?lang.
        c.goto(&format!("{url}/registry")).await.unwrap();
        assert_eq!(text_of(&c, "nav a[href^='/cases']").await, cases_word);
    }
    // The request letter of a case (Art. 4.1), print-ready and accessible.
    c.goto(&format!("{url}/cases/{disputed}/letter?lang=ru"))
        .await
        .unwrap();
    assert!(
        c.find(Locator::Css(
            "section.letter[lang='kk'], section.letter[lang='tk']"
        ))
        .await
        .is_ok()
    );
    accessible(&c, "the request letter").await;
    c.goto(&format!("{url}/?lang=en")).await.unwrap();

    // The overview says what the verifier says.
    assert_eq!(text_of(&c, "#ledger-id").await, ledger_id);
    assert_eq!(
        text_of(&c, "#size").await,
        verified["size"].as_u64().unwrap().to_string()
    );
    assert!(text_of(&c, "#verdict").await.starts_with("VERIFIED."));
    let a7 = &verified["article7"];
    let summary = text_of(&c, "#a7-summary").await;
    assert!(
        summary.starts_with(&format!(
            "{} items of information transferred, {} uses, {} onward transfers",
            a7["items"], a7["uses"], a7["onward_transfers"]
        )),
        "{summary} vs {a7}"
    );
    shot(&c, "overview-en").await;
    for (lang, _, _) in LANGS {
        c.goto(&format!("{url}/?lang={lang}")).await.unwrap();
        shot(&c, &format!("overview-{lang}")).await;
    }
    c.goto(&format!("{url}/?lang=en")).await.unwrap();

    // Keyboard: the first Tab reaches the skip link.
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{e004}")
        .await
        .unwrap();
    let focused = c.active_element().await.unwrap();
    assert_eq!(
        focused.attr("class").await.unwrap().as_deref(),
        Some("skip")
    );

    // Filter in the form: closed and disputed; the count is the CLI's.
    c.goto(&format!("{url}/cases")).await.unwrap();
    c.find(Locator::Id("f-status"))
        .await
        .unwrap()
        .select_by_value("closed")
        .await
        .unwrap();
    c.find(Locator::Id("f-disputed"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click_to_next_page(&c, Locator::Id("f-apply")).await;
    let cli = json(&[
        "case",
        "list",
        "--data",
        p(&dir),
        "--status",
        "closed",
        "--disputed",
        "--json",
    ]);
    let total = cli["total"].as_u64().unwrap();
    assert!(total > 0);
    let count = text_of(&c, "#count").await;
    assert!(
        count.ends_with(&format!("of {total}")),
        "{count} vs {total}"
    );
    let rows = c.find_all(Locator::Css("#cases tbody tr")).await.unwrap();
    assert_eq!(rows.len() as u64, total.min(50));
    for r in &rows {
        assert!(r.text().await.unwrap().contains("Closed"));
    }
    shot(&c, "cases-filtered").await;

    // Paginate: 120 cases, 50 a page.
    c.goto(&format!("{url}/cases")).await.unwrap();
    let first = text_of(&c, "#cases tbody tr:first-child td").await;
    assert!(text_of(&c, "#count").await.starts_with("Cases 1–50 of "));
    click_to_next_page(&c, Locator::Id("next")).await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .as_str()
            .contains("offset=50")
    );
    assert!(text_of(&c, "#count").await.starts_with("Cases 51–100 of "));
    assert_ne!(text_of(&c, "#cases tbody tr:first-child td").await, first);
    click_to_next_page(&c, Locator::Id("prev")).await;
    assert_eq!(text_of(&c, "#cases tbody tr:first-child td").await, first);

    // A case, moved as of the record that raised its dispute: what the CLI shows then.
    c.goto(&format!("{url}/cases/{disputed}")).await.unwrap();
    shot(&c, "case").await;
    let raised: u64 = std::fs::read_to_string(dir.join("tour/dispute-raised-at"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    click_to_next_page(&c, Locator::Css(&format!("#r{raised} a.asof-link"))).await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .as_str()
            .ends_with(&format!("as_of={raised}"))
    );
    let then = json(&[
        "case",
        "show",
        &disputed,
        "--data",
        p(&dir),
        "--as-of",
        &raised.to_string(),
        "--json",
    ]);
    let rows = c
        .find_all(Locator::Css("#timeline tbody tr"))
        .await
        .unwrap();
    assert_eq!(
        rows.len(),
        then["case"]["timeline"].as_array().unwrap().len(),
        "the timeline as of {raised}"
    );
    assert!(
        text_of(&c, ".asof-banner")
            .await
            .contains(&format!("record {raised}"))
    );
    assert!(text_of(&c, "#since").await.starts_with("Since this point:"));
    shot(&c, "case-as-of").await;

    // The dossier, printed to PDF by the browser; it states the verified checkpoint.
    click_to_next_page(&c, Locator::Id("dossier")).await;
    assert!(text_of(&c, "#stamp").await.contains(&format!(
        "against checkpoint {}",
        verified["checkpoints"].as_array().unwrap().last().unwrap()["size"]
    )));
    let pdf = c
        .print(fantoccini::wd::PrintConfiguration::default())
        .await
        .unwrap();
    assert!(
        pdf.starts_with(b"%PDF") && pdf.len() > 10_000,
        "{} bytes",
        pdf.len()
    );
    std::fs::write(screenshots().join("dossier.pdf"), &pdf).unwrap();
    shot(&c, "dossier").await;

    // Article 7, the registry, the checkpoints.
    c.goto(&format!("{url}/article7")).await.unwrap();
    assert_eq!(
        text_of(&c, "#a7-summary").await,
        summary,
        "the overview and the Article 7 page agree"
    );
    shot(&c, "article7").await;
    c.goto(&format!("{url}/registry")).await.unwrap();
    let authorities = json(&["authorities", "--data", p(&dir), "--json"]);
    let rows = c
        .find_all(Locator::Css("#registry tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), authorities.as_object().unwrap().len());
    shot(&c, "registry").await;
    c.goto(&format!("{url}/checkpoints")).await.unwrap();
    let rows = c
        .find_all(Locator::Css("#checkpoints tbody tr"))
        .await
        .unwrap();
    assert_eq!(
        rows.len(),
        verified["checkpoints"].as_array().unwrap().len()
    );

    // Check a document: a digest the disputed case cites finds it; a file the ledger
    // never saw is hashed by the console and found nowhere.
    let case = json(&["case", "show", &disputed, "--data", p(&dir), "--json"]);
    let digest = case["case"]["documents"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    c.goto(&format!("{url}/documents")).await.unwrap();
    c.find(Locator::Id("digest"))
        .await
        .unwrap()
        .send_keys(&digest)
        .await
        .unwrap();
    click_to_next_page(&c, Locator::Css("#doc-form button[type=submit]")).await;
    let hits = text_of(&c, "#main").await;
    assert!(hits.contains(&disputed[..16]), "{hits}");
    let unseen = tmp.path().join("unseen.pdf");
    std::fs::write(&unseen, b"a document no authority ever sent").unwrap();
    c.goto(&format!("{url}/documents")).await.unwrap();
    c.find(Locator::Id("doc-file"))
        .await
        .unwrap()
        .send_keys(p(&unseen))
        .await
        .unwrap();
    let want = blake3::hash(b"a document no authority ever sent")
        .to_hex()
        .to_string();
    let started = Instant::now();
    while !c.current_url().await.unwrap().as_str().contains(&want) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the file was not looked up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(c.find(Locator::Id("no-hits")).await.is_ok());
    // Hashed in the browser (issue 27: the node takes no file), a megabyte at a time: a
    // file of several reads gets the digest the CLI and the ledger compute (BLAKE3's own
    // test input, bytes i mod 251).
    let big: Vec<u8> = (0..2_621_441u32).map(|i| (i % 251) as u8).collect();
    let file = tmp.path().join("big.bin");
    std::fs::write(&file, &big).unwrap();
    let want = blake3::hash(&big).to_hex().to_string();
    c.goto(&format!("{url}/documents")).await.unwrap();
    c.find(Locator::Id("doc-file"))
        .await
        .unwrap()
        .send_keys(p(&file))
        .await
        .unwrap();
    let started = Instant::now();
    while !c.current_url().await.unwrap().as_str().contains(&want) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the large file was not hashed to {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // An unknown filter value is a page that says so (400), in the reader's language.
    c.goto(&format!("{url}/cases?status=bogus&lang=ru"))
        .await
        .unwrap();
    assert!(text_of(&c, ".error").await.contains("bogus"));

    c.close().await.unwrap();
}

/// The console over an export, a follower's copy and an evidence bundle (each verified
/// first), and a tampered export, which starts no console at all.
#[test]
fn the_console_serves_exports_and_bundles_and_nothing_that_fails_verification() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    let o = bin()
        .args(["demo", "--data", p(&dir), "--cases", "40", "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success());
    coop_node::install_crypto_provider();
    let get = |url: &str| {
        let r = reqwest::blocking::get(url).unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };

    let export = dir.join("ledger.export");
    let (_c, url) = console(&export);
    let (status, body) = get(&format!("{url}/"));
    assert_eq!(status, 200);
    assert!(body.contains("The whole ledger"), "{body}");
    let (status, csv) = get(&format!("{url}/cases.csv"));
    assert_eq!(status, 200);
    assert!(csv.starts_with("# Ledger "), "{csv}");
    let list = json(&[
        "case",
        "list",
        "--data",
        p(&dir),
        "--json",
        "--limit",
        "1000",
    ]);
    assert_eq!(
        csv.lines().filter(|l| !l.starts_with('#')).count() as u64,
        list["total"].as_u64().unwrap() + 1,
        "one row per case and a header"
    );

    // A follower's copy: a witness follows the demo's node into its own directory; the
    // console over that copy (the follower stopped) shows the same ledger, verified.
    let size = json(&["verify", p(&dir), "--json", "--quiet"])["size"].clone();
    let copy = tmp.path().join("copy");
    {
        let (_node, leader) = start(&["serve", "--data", p(&dir), "--listen", "127.0.0.1:0"]);
        let witness_key = dir.join("keys/TM-WITNESS.pem");
        let (_follower, _) = start(&[
            "follow",
            "--leader",
            &leader,
            "--data",
            p(&copy),
            "--witness-key",
            p(&witness_key),
            "--name",
            "TM-WITNESS",
            "--listen",
            "127.0.0.1:0",
        ]);
        let started = std::time::Instant::now();
        loop {
            let o = bin()
                .args(["verify", p(&copy), "--json", "--quiet"])
                .output()
                .unwrap();
            if o.status.success()
                && serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["size"] == size
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the follower did not catch up"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let (_f, url) = console(&copy);
    let (status, body) = get(&format!("{url}/?lang=kk"));
    assert_eq!(status, 200);
    assert!(
        body.contains("ТЕКСЕРІЛДІ") && body.contains(&format!("<dd id=\"size\">{size}</dd>")),
        "{body}"
    );

    let bundle = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "bundle"))
        .expect("the demo's bundle");
    let case = bundle
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .trim_start_matches("case-")
        .to_owned();
    let (_b, url) = console(&bundle);
    let (status, body) = get(&format!("{url}/"));
    assert_eq!(status, 200);
    assert!(body.contains("The evidence bundle of one case"), "{body}");
    // Issue 30: it said "Records 2423" and "Latest checkpoint: none" under a verdict naming
    // the checkpoint; now the records it holds of the ledger its checkpoint covers.
    assert!(body.contains("held by this bundle, of the"), "{body}");
    let (status, body) = get(&format!("{url}/cases/{case}?lang=ru"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Ход дела"));

    // One byte changed in the middle of the export: verification fails, nothing serves.
    let mut bytes = std::fs::read(&export).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    let bad = tmp.path().join("tampered.export");
    std::fs::write(&bad, bytes).unwrap();
    let o = bin()
        .args(["console", p(&bad), "--listen", "127.0.0.1:0", "--quiet"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("VERIFICATION FAILED"));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("http://"));
}

/// On a node (`serve`), the console is behind a login: the browser signs a challenge with
/// the key file the person chooses (WebCrypto Ed25519) and the node checks it against
/// the key the ledger registers. Roles limit what each person sees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_console_opens_only_to_a_registered_key_and_shows_what_its_role_may_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    let o = bin()
        .args(["demo", "--data", p(&dir), "--cases", "40", "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // What the CLI says, read before the node holds the directory.
    let all = json(&[
        "case",
        "list",
        "--data",
        p(&dir),
        "--json",
        "--limit",
        "1000",
    ]);
    let own = json(&[
        "case",
        "list",
        "--data",
        p(&dir),
        "--json",
        "--limit",
        "1000",
        "--authority",
        "KZ-MVD",
    ]);
    let (_node, url) = start(&["serve", "--data", p(&dir), "--listen", "127.0.0.1:0"]);
    let (_driver, c) = browser(&tmp.path().join("profile")).await;
    let keys = dir.join("keys");

    async fn sign_in(c: &Client, url: &str, id: &str, key: &Path) {
        sign_in_with(c, url, id, key, None).await
    }
    async fn sign_in_with(c: &Client, url: &str, id: &str, key: &Path, pass: Option<&str>) {
        c.goto(&format!("{url}/cases?lang=en")).await.unwrap();
        // Not signed in: every page leads to the login, which remembers where to go.
        let at = c.current_url().await.unwrap();
        assert_eq!(at.path(), "/login", "{at}");
        c.find(Locator::Id("login-id"))
            .await
            .unwrap()
            .send_keys(id)
            .await
            .unwrap();
        c.find(Locator::Id("key-file"))
            .await
            .unwrap()
            .send_keys(p(key))
            .await
            .unwrap();
        if let Some(pass) = pass {
            c.find(Locator::Id("key-pass"))
                .await
                .unwrap()
                .send_keys(pass)
                .await
                .unwrap();
        }
        c.find(Locator::Id("login-submit"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let started = Instant::now();
        while c.current_url().await.unwrap().path() == "/login"
            && c.find(Locator::Id("login-error")).await.is_err()
            && login_status(c).await.as_deref() != Some(WRONG_PASSPHRASE)
        {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no answer to the login"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    c.goto(&format!("{url}/login?lang=en")).await.unwrap();
    accessible(&c, "the sign-in page").await;
    // The wrong key file for an id is refused, and says why.
    sign_in(&c, &url, "KZ-AUDIT", &keys.join("TM-GPO.pem")).await;
    assert!(
        text_of(&c, "#login-error").await.contains("KZ-AUDIT"),
        "a wrong key was let in"
    );
    // A made-up id too.
    sign_in(&c, &url, "KZ-NOBODY", &keys.join("KZ-AUDIT.pem")).await;
    assert!(text_of(&c, "#login-error").await.contains("KZ-NOBODY"));

    // The auditor signs in and sees every case and Article 7.
    sign_in(&c, &url, "KZ-AUDIT", &keys.join("KZ-AUDIT.pem")).await;
    assert_eq!(c.current_url().await.unwrap().path(), "/cases");
    assert!(text_of(&c, "#who").await.starts_with("KZ-AUDIT"));
    assert!(
        text_of(&c, "#count")
            .await
            .ends_with(&format!("of {}", all["total"])),
    );
    c.goto(&format!("{url}/article7")).await.unwrap();
    assert!(c.find(Locator::Id("a7-summary")).await.is_ok());
    shot(&c, "node-auditor-article7").await;
    // The session cookie is out of the page's reach (HttpOnly).
    let cookies = c.execute("return document.cookie", vec![]).await.unwrap();
    assert!(
        !cookies
            .as_str()
            .unwrap_or_default()
            .contains("coop_session")
    );
    click_to_next_page(&c, Locator::Id("logout")).await;
    c.goto(&format!("{url}/")).await.unwrap();
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/login",
        "signed out"
    );

    // A competent authority sees its own cases only, and not the Article 7 register.
    sign_in(&c, &url, "KZ-MVD", &keys.join("KZ-MVD.pem")).await;
    assert!(own["total"].as_u64().unwrap() < all["total"].as_u64().unwrap());
    assert!(
        text_of(&c, "#count")
            .await
            .ends_with(&format!("of {}", own["total"])),
    );
    c.goto(&format!("{url}/article7")).await.unwrap();
    assert!(text_of(&c, ".error").await.contains("may not read"));
    // A case between other authorities is not there for it.
    let other = all["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["requester"] != "KZ-MVD" && r["requested"] != "KZ-MVD")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.goto(&format!("{url}/cases/{other}")).await.unwrap();
    assert!(c.find(Locator::Css(".error")).await.is_ok());
    shot(&c, "node-competent-cases").await;
    c.goto(&format!("{url}/cases")).await.unwrap();
    click_to_next_page(&c, Locator::Id("logout")).await;

    // Issue 27: a clerk whose key file is protected (keygen --encrypt, as the README
    // says) signs in with it and the passphrase, opened in the browser; a wrong
    // passphrase is told as such. Then the clerk's own inbox.
    let protected = tmp.path().join("tm-mvd-protected.pem");
    let o = bin()
        .env("COOPLEDGER_PASSPHRASE", "correct horse battery staple")
        .args(["keygen", "--encrypt", "--from", p(&keys.join("TM-MVD.pem"))])
        .args(["--out", p(&protected)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    sign_in_with(&c, &url, "TM-MVD", &protected, Some("wrong horse")).await;
    assert_eq!(login_status(&c).await.as_deref(), Some(WRONG_PASSPHRASE));
    sign_in_with(
        &c,
        &url,
        "TM-MVD",
        &protected,
        Some("correct horse battery staple"),
    )
    .await;
    assert_eq!(c.current_url().await.unwrap().path(), "/cases");
    assert!(text_of(&c, "#who").await.starts_with("TM-MVD"));
    c.goto(&format!("{url}/inbox?lang=en")).await.unwrap();
    assert!(text_of(&c, "h1").await.contains("TM-MVD"));
    assert!(text_of(&c, "#desk-summary").await.contains("waiting"));
    accessible(&c, "a clerk's inbox").await;
    shot(&c, "node-clerk-inbox").await;
    c.goto(&format!("{url}/cases")).await.unwrap();
    click_to_next_page(&c, Locator::Id("logout")).await;

    // Issue 27: KZ-MVD's request reaches TM-MVD's inbox; from there the clerk drafts the
    // acceptance, sees the exact event, signs it in the browser with the protected key
    // (and its passphrase), and gets the node's receipt; the act leaves the inbox.
    let tour = dir.join("tour");
    let mut request: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tour.join("request-uncertified.json")).unwrap(),
    )
    .unwrap();
    request["payload"]["Request"]["elements"]["decision_copy"]["role"] =
        serde_json::json!("CertifiedCopy");
    std::fs::write(tour.join("request-ok.json"), request.to_string()).unwrap();
    let o = bin()
        .args(["submit", "--node", &url, p(&tour.join("request-ok.json"))])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    sign_in_with(
        &c,
        &url,
        "TM-MVD",
        &protected,
        Some("correct horse battery staple"),
    )
    .await;
    c.goto(&format!("{url}/inbox?lang=en&act=answer-request"))
        .await
        .unwrap();
    let act = c
        .find(Locator::Css("a.act[href^='/compose/Acknowledged']"))
        .await
        .expect("the request, to accept");
    let href = act.attr("href").await.unwrap().unwrap();
    click_to_next_page(&c, Locator::Css("a.act[href^='/compose/Acknowledged']")).await;
    assert!(c.find(Locator::Id("compose-ok")).await.is_ok(), "{href}");
    accessible(&c, "the compose page").await;
    assert!(
        text_of(&c, "#event-json")
            .await
            .contains("\"authority\": \"TM-MVD\"")
    );
    sign_here(
        &c,
        (&protected, Some("correct horse battery staple")),
        "Verified in your browser",
    )
    .await;
    assert!(text_of(&c, "#receipt-seq").await.starts_with('#'));
    // The same check refuses a receipt changed anywhere it proves something.
    let refused = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            const form = document.getElementById("sign-form");
            const good = JSON.parse(document.getElementById("receipt").dataset.receipt);
            import("/static/receipt.js").then(async (m) => {
              const keys = JSON.parse(form.dataset.nodeKeys);
              const hexes = (b) => { const o = []; for (let i = 0; i < b.length; i += 2) o.push(parseInt(b.slice(i, i + 2), 16)); return o; };
              const flip = (h) => (h[0] === "0" ? "1" : "0") + h.slice(1);
              const out = [];
              for (const change of ["none", "leaf", "proof", "seq", "checkpoint", "event"]) {
                const r = JSON.parse(JSON.stringify(good));
                const ev = new Uint8Array(hexes(document.getElementById("receipt").dataset.event));
                if (change === "leaf") r.leaf = flip(r.leaf);
                if (change === "proof") r.proof = r.proof.length ? [flip(r.proof[0]), ...r.proof.slice(1)] : ["00".repeat(32)];
                if (change === "seq") r.seq = r.seq + 1;
                if (change === "checkpoint") r.checkpoint = r.checkpoint.split("time ").join("time 1");
                if (change === "event") ev[0] ^= 1;
                const v = await m.verifyReceipt(r, ev, form.dataset.eventHash, keys);
                out.push(change + ":" + v.ok);
              }
              done(out.join(" "));
            });"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        refused.as_str().unwrap(),
        "none:true leaf:false proof:false seq:false checkpoint:false event:false"
    );
    shot(&c, "node-clerk-signed").await;
    // Drafted again, the same act is refused by the rules before anything is signed.
    c.goto(&format!("{url}{href}")).await.unwrap();
    assert!(c.find(Locator::Id("problems")).await.is_ok());
    assert!(c.find(Locator::Id("sign-form")).await.is_err());
    c.close().await.unwrap();
}

/// The sign-in page's status line, if the page is still there (it may be leaving).
async fn login_status(c: &Client) -> Option<String> {
    c.find(Locator::Id("login-status"))
        .await
        .ok()?
        .text()
        .await
        .ok()
}

/// What the sign-in page says of a passphrase that does not open the key file.
const WRONG_PASSPHRASE: &str =
    "The passphrase does not open this key file. Check it and try again.";

/// A refusal reads in the language asked for: `--lang` on the command line, and over
/// HTTP the `Accept-Language` the CLI sends (the clause stays the language-neutral
/// reference). English is the rules' own text.
#[test]
fn refusals_read_in_the_language_asked_for() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    let o = bin()
        .args(["demo", "--data", p(&dir), "--cases", "40", "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let request = dir.join("tour/request-uncertified.json");
    let refused = |args: &[&str]| {
        let o = bin().args(args).output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let en = refused(&["submit", "--data", p(&dir), p(&request)]);
    assert!(en.contains("Art. 4.1(5): the copy of the decision"), "{en}");
    let ru = refused(&["submit", "--data", p(&dir), p(&request), "--lang", "ru"]);
    assert!(ru.contains("Ст. 4.1(5): копия решения"), "{ru}");
    assert!(ru.contains("заверенную копию"), "{ru}");
    // Issue 30: nothing English around it ("nothing was written (the ledger still has N
    // records)", "refused:").
    let english = |said: &str| -> Vec<String> {
        const WORDS: [&str; 13] = [
            "the", "nothing", "was", "written", "ledger", "still", "has", "records", "refused",
            "of", "is", "not", "request",
        ];
        // Paths (the signed copy's) are the user's own words.
        said.split_whitespace()
            .filter(|w| !w.contains('/'))
            .flat_map(|w| w.split(|c: char| !c.is_alphabetic()))
            .map(str::to_lowercase)
            .filter(|w| WORDS.contains(&w.as_str()))
            .collect()
    };
    assert!(english(&ru).is_empty(), "{:?} in {ru}", english(&ru));
    assert!(ru.contains("ничего не записано"), "{ru}");

    let (_node, url) = start(&["serve", "--data", p(&dir), "--listen", "127.0.0.1:0"]);
    let kk = refused(&["submit", "--node", &url, p(&request), "--lang", "kk"]);
    assert!(kk.contains("4.1(5)-бап: шешімнің көшірмесі"), "{kk}");
    assert!(kk.contains("ештеңе жазылған жоқ"), "{kk}");
    assert!(english(&kk).is_empty(), "{:?} in {kk}", english(&kk));
    let o = bin()
        .args(["submit", "--node", &url, p(&request)])
        .env("COOPLEDGER_LANG", "tk")
        .output()
        .unwrap();
    let tk = String::from_utf8_lossy(&o.stderr);
    assert!(tk.contains("4.1(5) madda: kararyň göçürmesi"), "{tk}");
    assert!(english(&tk).is_empty(), "{tk}");
}

/// Issue 27: a clerk drafts a request element by element in the console — each document
/// chosen, hashed in the browser, given its language and translation — is stopped by the
/// Agreement's rules beside the fields concerned (an uncertified copy of the decision,
/// Art. 4.1(5); a document without its translation, Art. 4.2), fixes both, signs with
/// their own key and gets a receipt verified in the browser; the requested authority
/// then finds the request in its inbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_drafts_a_request_element_by_element_and_signs_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    let o = bin()
        .args(["demo", "--data", p(&dir), "--cases", "20", "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_node, url) = start(&["serve", "--data", p(&dir), "--listen", "127.0.0.1:0"]);
    let (_driver, c) = browser(&tmp.path().join("profile")).await;
    let keys = dir.join("keys");
    // The documents: a file each, and a translation of each.
    let docs = tmp.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    for name in [
        "grounds",
        "case_description",
        "content",
        "decision_copy",
        "legal_provision",
    ] {
        for (suffix, text) in [("kk", "қазақша"), ("tk", "türkmençe")] {
            std::fs::write(
                docs.join(format!("{name}-{suffix}.pdf")),
                format!("{name} ({text})"),
            )
            .unwrap();
        }
    }
    // Signed in as KZ-MVD, from the outbox.
    c.goto(&format!("{url}/outbox?lang=en")).await.unwrap();
    c.find(Locator::Id("login-id"))
        .await
        .unwrap()
        .send_keys("KZ-MVD")
        .await
        .unwrap();
    c.find(Locator::Id("key-file"))
        .await
        .unwrap()
        .send_keys(p(&keys.join("KZ-MVD.pem")))
        .await
        .unwrap();
    click_to_next_page(&c, Locator::Id("login-submit")).await;
    click_to_next_page(&c, Locator::Id("new-request")).await;
    accessible(&c, "the request form").await;
    async fn choose(c: &Client, field: &str, file: &Path) {
        let shown = format!("{field}-shown");
        c.find(Locator::Id(&format!("{field}-file")))
            .await
            .unwrap()
            .send_keys(p(file))
            .await
            .unwrap();
        let started = Instant::now();
        while text_of(c, &format!("[id='{shown}']")).await == "—" {
            assert!(started.elapsed() < PAGE_WAIT, "{field} was not hashed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    c.find(Locator::Css("#f-to option[value='TM-MVD']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for (id, v) in [
        (
            "f-requesting",
            "Investigation Department, MVD of Kazakhstan",
        ),
        ("f-requested", "Criminal Police, MVD of Turkmenistan"),
        ("f-purposes", "criminal investigation 2026-041"),
    ] {
        c.find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(v)
            .await
            .unwrap();
    }
    for name in [
        "grounds",
        "case_description",
        "content",
        "decision_copy",
        "legal_provision",
    ] {
        choose(&c, name, &docs.join(format!("{name}-kk.pdf"))).await;
        // The content's translation is left out, and the copy not marked certified.
        if name != "content" {
            choose(
                &c,
                &format!("{name}.tr"),
                &docs.join(format!("{name}-tk.pdf")),
            )
            .await;
        }
    }
    // Kept in this browser only: the clerk leaves the half-done draft and comes back to it.
    c.find(Locator::Id("draft-save"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.goto(&format!("{url}/outbox?lang=en")).await.unwrap();
    click_to_next_page(&c, Locator::Id("new-request")).await;
    let restored = text_of(&c, "#request-status").await;
    assert!(
        restored.starts_with("A draft kept in this browser"),
        "{restored}"
    );
    let value = |id: &'static str| {
        let c = c.clone();
        async move {
            c.find(Locator::Id(id))
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap()
                .unwrap_or_default()
        }
    };
    assert_eq!(
        value("f-requesting").await,
        "Investigation Department, MVD of Kazakhstan"
    );
    assert_ne!(text_of(&c, "[id='grounds-shown']").await, "—");
    click_to_next_page(&c, Locator::Id("request-check")).await;
    // Stopped beside the two fields, each with its article, nothing to sign.
    let copy = text_of(&c, "[data-field='decision_copy']").await;
    assert!(copy.starts_with("Art. 4.1(5)"), "{copy}");
    let content = text_of(&c, "[data-field='content']").await;
    assert!(content.starts_with("Art. 4.2"), "{content}");
    assert!(c.find(Locator::Id("sign-form")).await.is_err());
    accessible(&c, "the request form with its problems").await;
    shot(&c, "node-request-problems").await;
    // Fixed: the copy is certified, the content translated; checked again.
    c.find(Locator::Id("f-certified"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    choose(&c, "content.tr", &docs.join("content-tk.pdf")).await;
    click_to_next_page(&c, Locator::Id("request-check")).await;
    assert!(
        c.find(Locator::Id("compose-ok")).await.is_ok(),
        "{}",
        text_of(&c, "#main").await
    );
    c.find(Locator::Id("key-file"))
        .await
        .unwrap()
        .send_keys(p(&keys.join("KZ-MVD.pem")))
        .await
        .unwrap();
    c.find(Locator::Id("sign-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let started = Instant::now();
    while c
        .find(Locator::Css("#receipt:not([hidden])"))
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no receipt: {}",
            text_of(&c, "#sign-status").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let verdict = text_of(&c, "#receipt-verified").await;
    assert!(verdict.starts_with("Verified in your browser"), "{verdict}");
    shot(&c, "node-request-signed").await;
    // The request is in the ledger as the CLI shows it, with the digests of the files.
    let case = c
        .find(Locator::Id("receipt-case"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let id = case.rsplit('/').next().unwrap().to_owned();
    // Recorded, the draft is forgotten: a new request starts empty.
    c.goto(&format!("{url}/compose/Request?lang=en"))
        .await
        .unwrap();
    assert_eq!(value("f-requesting").await, "");

    // The rest of the case, each act drafted, checked, signed and its receipt verified
    // in the browser by the authority whose act it is (Art. 4.1, 4.3, 4.4, 7).
    async fn sign_in_as(c: &Client, url: &str, who: &str, key: Key<'_>, lang: &str) {
        c.goto(&format!("{url}/cases?lang={lang}")).await.unwrap();
        if c.find(Locator::Id("logout")).await.is_ok() {
            click_to_next_page(c, Locator::Id("logout")).await;
        }
        c.goto(&format!("{url}/inbox?lang={lang}")).await.unwrap();
        c.find(Locator::Id("login-id"))
            .await
            .unwrap()
            .send_keys(who)
            .await
            .unwrap();
        c.find(Locator::Id("key-file"))
            .await
            .unwrap()
            .send_keys(p(key.0))
            .await
            .unwrap();
        pass_for(c, key).await;
        click_to_next_page(c, Locator::Id("login-submit")).await;
    }
    async fn tick(c: &Client, css: &str) {
        c.find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    let act = |kind: &str| format!("a.act[href='/compose/{kind}?case={id}']");
    let write = |name: &str, text: &str| {
        let f = docs.join(name);
        std::fs::write(&f, text).unwrap();
        f
    };
    const EN: &str = "Verified in your browser";
    // KZ-MVD's key is plain; TM-MVD's protected by a passphrase (keygen --encrypt).
    let protected = tmp.path().join("tm-mvd-protected.pem");
    let o = bin()
        .env("COOPLEDGER_PASSPHRASE", "correct horse battery staple")
        .args(["keygen", "--encrypt", "--from", p(&keys.join("TM-MVD.pem"))])
        .args(["--out", p(&protected)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let kz_file = keys.join("KZ-MVD.pem");
    let (kz, tm): (Key<'_>, Key<'_>) = (
        (&kz_file, None),
        (&protected, Some("correct horse battery staple")),
    );

    // TM-MVD accepts it (Art. 4.1), then transfers information (Art. 4.4, 7).
    sign_in_as(&c, &url, "TM-MVD", tm, "en").await;
    click_to_next_page(&c, Locator::Css(&act("Acknowledged"))).await;
    sign_here(&c, tm, EN).await;
    c.goto(&format!("{url}/inbox?lang=en")).await.unwrap();
    click_to_next_page(&c, Locator::Css(&act("InformationTransferred"))).await;
    tick(&c, "#f-restricted").await;
    tick(&c, "#f-no-secret").await;
    choose(&c, "doc", &write("info-tk.pdf", "maglumat (türkmençe)")).await;
    choose(&c, "doc.tr", &write("info-kk.pdf", "ақпарат (қазақша)")).await;
    click_to_next_page(&c, Locator::Id("request-check")).await;
    accessible(&c, "a transfer of information").await;
    sign_here(&c, tm, EN).await;

    // KZ-MVD finds it insufficient and asks for more (Art. 4.3).
    sign_in_as(&c, &url, "KZ-MVD", kz, "en").await;
    c.goto(&format!("{url}/outbox?lang=en")).await.unwrap();
    click_to_next_page(&c, Locator::Css(&act("AdditionalInfoRequested"))).await;
    choose(&c, "doc", &write("more-kk.pdf", "қосымша сұрау (қазақша)")).await;
    choose(
        &c,
        "doc.tr",
        &write("more-tk.pdf", "goşmaça haýyş (türkmençe)"),
    )
    .await;
    click_to_next_page(&c, Locator::Id("request-check")).await;
    sign_here(&c, kz, EN).await;

    // TM-MVD sees it in its inbox with its deadline, and provides it.
    sign_in_as(&c, &url, "TM-MVD", tm, "en").await;
    let row = text_of(&c, "tr[data-act='provide-info']").await;
    assert!(row.contains("Art. 4.3") && row.contains("left"), "{row}");
    click_to_next_page(&c, Locator::Css(&act("AdditionalInfoProvided"))).await;
    tick(&c, "#f-no-secret").await;
    choose(
        &c,
        "doc",
        &write("extra-tk.pdf", "goşmaça maglumat (türkmençe)"),
    )
    .await;
    choose(
        &c,
        "doc.tr",
        &write("extra-kk.pdf", "қосымша ақпарат (қазақша)"),
    )
    .await;
    click_to_next_page(&c, Locator::Id("request-check")).await;
    sign_here(&c, tm, EN).await;

    // KZ-MVD records a use of what it received, for the request's purpose (Art. 7.2).
    sign_in_as(&c, &url, "KZ-MVD", kz, "en").await;
    c.goto(&format!("{url}/outbox?lang=en")).await.unwrap();
    click_to_next_page(&c, Locator::Css(&act("InformationUsed"))).await;
    c.find(Locator::Id("f-purpose"))
        .await
        .unwrap()
        .send_keys("criminal investigation 2026-041")
        .await
        .unwrap();
    click_to_next_page(&c, Locator::Id("request-check")).await;
    sign_here(&c, kz, EN).await;

    // A second case, sent from the CLI; TM-MVD, in Russian, refuses it with grounds
    // (Art. 4.5) and reasons (Art. 4.6) in Turkmen with their Kazakh translation.
    let tour = dir.join("tour");
    let mut request: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tour.join("request-uncertified.json")).unwrap(),
    )
    .unwrap();
    request["payload"]["Request"]["elements"]["decision_copy"]["role"] =
        serde_json::json!("CertifiedCopy");
    std::fs::write(tour.join("request-ok.json"), request.to_string()).unwrap();
    let o = bin()
        .args(["submit", "--node", &url, p(&tour.join("request-ok.json"))])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    sign_in_as(&c, &url, "TM-MVD", tm, "ru").await;
    let second = c
        .find(Locator::Css("a.act[href^='/compose/Refused']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let second_id = second.rsplit('=').next().unwrap().to_owned();
    click_to_next_page(&c, Locator::Css("a.act[href^='/compose/Refused']")).await;
    tick(&c, "input[name='ground.NationalLaw']").await;
    choose(&c, "doc", &write("reasons-tk.pdf", "sebäpler (türkmençe)")).await;
    choose(&c, "doc.tr", &write("reasons-kk.pdf", "себептер (қазақша)")).await;
    click_to_next_page(&c, Locator::Id("request-check")).await;
    accessible(&c, "a refusal, in Russian").await;
    // What the browser is about to sign, to compare with what the CLI builds.
    let drafted: serde_json::Value =
        serde_json::from_str(&text_of(&c, "#event-json").await).unwrap();
    sign_here(&c, tm, "Проверено в вашем браузере").await;
    shot(&c, "node-refusal-ru").await;

    drop(_node);
    let shown = json(&["case", "show", &id, "--data", p(&dir), "--json"]);
    assert_eq!(shown["case"]["requester"], "KZ-MVD");
    assert_eq!(shown["case"]["requested"], "TM-MVD");
    let kinds: Vec<&str> = shown["case"]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "request",
            "acknowledged",
            "information transferred",
            "additional information requested",
            "additional information provided",
            "information used"
        ],
        "{shown}"
    );
    let want = blake3::hash("content (türkmençe)".as_bytes())
        .to_hex()
        .to_string();
    assert!(
        shown.to_string().contains(&want),
        "the translation's digest"
    );
    let refused = json(&["case", "show", &second_id, "--data", p(&dir), "--json"]);
    assert_eq!(refused["case"]["status"], "Refused", "{refused}");
    // The CLI, from the same files and choices, builds the same payload.
    let reasons = json(&[
        "digest",
        p(&docs.join("reasons-tk.pdf")),
        "--language",
        "tk",
        "--media-type",
        "application/pdf",
    ]);
    let role = format!("translation-of:{}", reasons["digest"].as_str().unwrap());
    let translation = json(&[
        "digest",
        p(&docs.join("reasons-kk.pdf")),
        "--language",
        "kk",
        "--role",
        &role,
        "--media-type",
        "application/pdf",
    ]);
    let file = tmp.path().join("refusal.json");
    std::fs::write(
        &file,
        serde_json::json!({
            "signer": "TM-MVD",
            "key": p(&keys.join("TM-MVD.pem")),
            "case": second_id,
            "payload": {"Refused": {"extent": "Full", "grounds": ["NationalLaw"],
                                    "reasons": [translation, reasons]}},
        })
        .to_string(),
    )
    .unwrap();
    let built = tmp.path().join("refusal.bin");
    // Built for its bytes alone (the case was answered meanwhile: the ledger would refuse
    // it now, which `event build` says unless told `--anyway`).
    let o = bin()
        .args([
            "event",
            "build",
            p(&file),
            "--out",
            p(&built),
            "--data",
            p(&dir),
            "--anyway",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cli = json(&["event", "show", p(&built)]);
    assert_eq!(
        cli["body"]["payload"], drafted["payload"],
        "{cli}\n{drafted}"
    );
    // The ledger the browser wrote verifies offline.
    let verified = json(&["verify", p(&dir), "--json", "--quiet"]);
    assert_eq!(verified["verified"], true, "{verified}");
    c.close().await.unwrap();
}
