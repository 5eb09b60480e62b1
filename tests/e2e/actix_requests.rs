//! The actix-web middleware: each request keeps its own scope and trace, its transaction is
//! named after the route with the response's status, a 5xx error is captured in the request's
//! scope, and an incoming trace is continued.

use std::rc::Rc;

use actix_web::http::StatusCode;
use actix_web::test::{call_service, init_service, TestRequest};
use actix_web::{web, App, HttpResponse};
use serde_json::Value;

use crate::support::*;
use sentry_sdk::integrations::actix::Sentry;
use sentry_sdk::protocol::Level;

/// `(envelope headers, payload)` of every transaction received.
fn transactions(receiver: &Receiver) -> Vec<(Value, Value)> {
    receiver
        .requests()
        .iter()
        .map(|r| r.envelope())
        .flat_map(|e| {
            let headers = Value::Object(e.headers().clone().into_iter().collect());
            e.items()
                .iter()
                .filter(|i| i.item_type() == "transaction")
                .filter_map(|i| i.payload_json())
                .map(|p| (headers.clone(), p))
                .collect::<Vec<_>>()
        })
        .collect()
}

async fn user(path: web::Path<u32>) -> HttpResponse {
    let id = path.into_inner();
    sentry_sdk::set_tag("user", id);
    // Let the other requests run in between, on this same thread.
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    sentry_sdk::capture_message(&format!("hello {id}"), Level::Info);
    HttpResponse::Ok().finish()
}

#[test]
fn fifty_concurrent_requests_keep_their_own_tags_and_request_data() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).traces_sample_rate(1.0));
    let statuses = actix_web::rt::System::new().block_on(async {
        let app = Rc::new(
            init_service(
                App::new()
                    .wrap(Sentry::new())
                    .route("/users/{id}", web::get().to(user)),
            )
            .await,
        );
        let tasks: Vec<_> = (0..50u32)
            .map(|n| {
                let app = app.clone();
                actix_web::rt::spawn(async move {
                    let req = TestRequest::get()
                        .uri(&format!("/users/{n}?page={n}"))
                        .insert_header(("x-request", n.to_string()))
                        .insert_header(("authorization", "Bearer s3cret"))
                        .to_request();
                    call_service(&*app, req).await.status()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.expect("request task"));
        }
        statuses
    });
    assert!(statuses.iter().all(|s| *s == StatusCode::OK));
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);

    let events = receiver.events();
    assert_eq!(events.len(), 50);
    let mut traces = std::collections::HashSet::new();
    for event in &events {
        let n = event["logentry"]["formatted"]
            .as_str()
            .and_then(|m| m.strip_prefix("hello "))
            .expect("a hello message")
            .to_owned();
        assert_eq!(event["tags"]["user"], n.as_str(), "{event}");
        let request = &event["request"];
        assert_eq!(request["method"], "GET");
        assert!(request["url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/users/{n}"))));
        assert_eq!(request["query_string"], format!("page={n}").as_str());
        assert_eq!(request["headers"]["x-request"], n.as_str());
        assert_eq!(request["headers"]["authorization"], "[Filtered]");
        traces.insert(event["contexts"]["trace"]["trace_id"].to_string());
    }
    // One trace per request.
    assert_eq!(traces.len(), 50);

    let transactions = transactions(&receiver);
    assert_eq!(transactions.len(), 50);
    for (_, t) in &transactions {
        assert_eq!(t["transaction"], "GET /users/{id}");
        assert_eq!(t["transaction_info"]["source"], "route");
        assert_eq!(t["contexts"]["trace"]["op"], "http.server");
        assert_eq!(t["contexts"]["trace"]["status"], "ok");
        let url = t["request"]["url"].as_str().expect("request data");
        let n = url.rsplit('/').next().expect("an id");
        assert_eq!(t["tags"]["user"], n, "{t}");
        assert!(traces.contains(&t["contexts"]["trace"]["trace_id"].to_string()));
    }
}

async fn fail() -> Result<HttpResponse, actix_web::Error> {
    Err(actix_web::error::ErrorInternalServerError("database down"))
}

async fn order() -> HttpResponse {
    HttpResponse::Ok().body("order")
}

#[test]
fn transactions_are_named_after_routes_and_carry_the_status() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).traces_sample_rate(1.0));
    actix_web::rt::System::new().block_on(async {
        let app = init_service(
            App::new()
                .wrap(Sentry::new())
                .route("/orders/{id}", web::get().to(order))
                .route("/fail", web::post().to(fail)),
        )
        .await;
        for (method, uri, status) in [
            ("GET", "/orders/7", 200),
            ("GET", "/nowhere/7", 404),
            ("POST", "/fail", 500),
        ] {
            let req = TestRequest::default()
                .method(method.parse().expect("a method"))
                .uri(uri)
                .to_request();
            assert_eq!(call_service(&app, req).await.status().as_u16(), status);
        }
    });
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);

    let transactions = transactions(&receiver);
    let by_name = |name: &str| {
        transactions
            .iter()
            .map(|(_, t)| t)
            .find(|t| t["transaction"] == name)
            .unwrap_or_else(|| panic!("no transaction {name}: {transactions:?}"))
            .clone()
    };
    let ok = by_name("GET /orders/{id}");
    assert_eq!(ok["transaction_info"]["source"], "route");
    assert_eq!(ok["contexts"]["trace"]["status"], "ok");
    assert_eq!(
        ok["contexts"]["trace"]["data"]["http.response.status_code"],
        200
    );
    let missing = by_name("GET /nowhere/7");
    assert_eq!(missing["transaction_info"]["source"], "url");
    assert_eq!(missing["contexts"]["trace"]["status"], "not_found");
    let failed = by_name("POST /fail");
    assert_eq!(failed["transaction_info"]["source"], "route");
    assert_eq!(failed["contexts"]["trace"]["status"], "internal_error");

    // The 5xx error was captured once, in the failing request's scope and trace.
    let events = receiver.events();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["exception"]["values"][0]["value"], "database down");
    assert_eq!(event["request"]["method"], "POST");
    assert!(event["request"]["url"]
        .as_str()
        .is_some_and(|u| u.ends_with("/fail")));
    assert_eq!(
        event["contexts"]["trace"]["trace_id"],
        failed["contexts"]["trace"]["trace_id"]
    );
}

#[test]
fn an_incoming_trace_is_continued_with_its_baggage() {
    const TRACE: &str = "771a43a4192642f0b136d5159a501700";
    const PARENT: &str = "bb8f278130535c3c";
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).traces_sample_rate(1.0));
    actix_web::rt::System::new().block_on(async {
        let app = init_service(
            App::new()
                .wrap(Sentry::new())
                .route("/orders/{id}", web::get().to(order)),
        )
        .await;
        let req = TestRequest::get()
            .uri("/orders/1")
            .insert_header(("sentry-trace", format!("{TRACE}-{PARENT}-1")))
            .insert_header((
                "baggage",
                format!(
                    "other=vendor,sentry-trace_id={TRACE},sentry-public_key=public,\
                     sentry-release=upstream%401.0,sentry-environment=upstream,\
                     sentry-sample_rate=0.5,sentry-sample_rand=0.25,sentry-sampled=true"
                ),
            ))
            .to_request();
        assert!(call_service(&app, req).await.status().is_success());
    });
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);

    let transactions = transactions(&receiver);
    assert_eq!(transactions.len(), 1);
    let (headers, t) = &transactions[0];
    assert_eq!(t["contexts"]["trace"]["trace_id"], TRACE);
    assert_eq!(t["contexts"]["trace"]["parent_span_id"], PARENT);
    let trace = &headers["trace"];
    assert_eq!(trace["trace_id"], TRACE);
    assert_eq!(trace["public_key"], "public");
    assert_eq!(trace["release"], "upstream@1.0");
    assert_eq!(trace["environment"], "upstream");
    assert_eq!(trace["sample_rate"], "0.5");
    assert_eq!(trace["sample_rand"], "0.25");
    assert_eq!(trace["sampled"], "true");
    assert!(trace.get("other").is_none(), "{trace}");
}

async fn boom(path: web::Path<u32>) -> HttpResponse {
    let id = path.into_inner();
    sentry_sdk::set_tag("order", id);
    if id > 0 {
        panic!("boom {id}");
    }
    HttpResponse::Ok().body("fine")
}

/// One HTTP/1.1 request over a fresh connection; the response, or what arrived before the
/// server closed the connection.
fn get(addr: std::net::SocketAddr, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

#[test]
fn a_handler_panic_is_reported_in_its_requests_scope_and_the_server_goes_on() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(
        options(&receiver)
            .default_integrations(true)
            .traces_sample_rate(1.0),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = actix_web::HttpServer::new(|| {
                App::new()
                    .wrap(Sentry::new())
                    .route("/boom/{id}", web::get().to(boom))
            })
            .workers(1)
            .disable_signals()
            .listen(listener)
            .expect("listen")
            .run();
            tx.send(server.handle()).expect("handle");
            server.await
        })
    });
    let handle = rx.recv_timeout(WAIT).expect("the server started");

    let panicked = get(addr, "/boom/9");
    // actix-web does not answer a request whose handler panicked.
    assert!(!panicked.starts_with("HTTP/1.1 200"), "{panicked}");
    let after = get(addr, "/boom/0");
    assert!(after.starts_with("HTTP/1.1 200"), "{after}");

    actix_web::rt::System::new().block_on(handle.stop(true));
    server.join().expect("server thread").expect("server");
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);

    let events = receiver.events();
    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(event["exception"]["values"][0]["value"], "boom 9");
    assert_eq!(event["tags"]["order"], "9");
    assert!(event["request"]["url"]
        .as_str()
        .is_some_and(|u| u.ends_with("/boom/9")));
    let transactions = transactions(&receiver);
    let failed = transactions
        .iter()
        .map(|(_, t)| t)
        .find(|t| t["tags"]["order"] == "9")
        .expect("the panicked request's transaction");
    assert_eq!(failed["contexts"]["trace"]["status"], "internal_error");
    assert_eq!(
        failed["contexts"]["trace"]["trace_id"],
        event["contexts"]["trace"]["trace_id"]
    );
}

async fn maybe_fail(path: web::Path<u32>) -> HttpResponse {
    let n = path.into_inner();
    if n % 10 == 3 {
        sentry_sdk::capture_exception(&std::io::Error::other(format!("request {n} failed")));
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::Ok().finish()
}

#[test]
fn request_mode_opens_one_session_per_request() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(
        options(&receiver)
            .auto_session_tracking(true)
            .session_mode(sentry_sdk::SessionMode::Request),
    );
    actix_web::rt::System::new().block_on(async {
        let app = init_service(
            App::new()
                .wrap(Sentry::new())
                .route("/work/{n}", web::get().to(maybe_fail)),
        )
        .await;
        for n in 0..40u32 {
            let req = TestRequest::get().uri(&format!("/work/{n}")).to_request();
            call_service(&app, req).await;
        }
    });
    drop(guard);
    let mut counts = (0, 0);
    for request in receiver.requests() {
        for item in request.envelope().items() {
            assert_ne!(item.item_type(), "session", "no application session");
            if item.item_type() == "sessions" {
                let body = item.payload_json().unwrap();
                for bucket in body["aggregates"].as_array().unwrap() {
                    counts.0 += bucket["exited"].as_u64().unwrap_or(0);
                    counts.1 += bucket["errored"].as_u64().unwrap_or(0);
                }
            }
        }
    }
    assert_eq!(counts, (36, 4), "exited, errored");
}
