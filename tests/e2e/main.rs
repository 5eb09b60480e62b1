//! End-to-end tests: the real HTTP transport against an in-process loopback receiver.
//!
//! `init` binds a process-wide client, so every test that calls it holds `support::serial()`.

#[path = "../support/receiver.rs"]
mod receiver;
mod support;

mod actix_requests;
mod attachments_and_feedback_reach_sentry;
mod callbacks_can_capture_without_deadlock;
mod check_ins_report_each_run_of_a_job;
mod close_is_bounded_with_a_hung_server;
mod crashes_do_not_wait_on_an_unreachable_server;
mod drops_are_reported_as_client_reports;
mod errors_are_worth_reading;
mod hostile_servers_leave_the_sdk_working;
mod huge_responses_are_not_read;
mod init_never_panics_on_bad_input;
mod log_and_tracing_reach_sentry;
mod log_attributes_keep_their_types;
mod logs_carry_severity_user_and_os;
mod memory_stays_bounded_when_the_server_is_down;
mod metrics_reach_sentry_in_batches;
mod misbehaving_callers_and_callbacks_are_survived;
#[cfg(feature = "minidump")]
mod native_crashes_arrive_with_a_minidump;
mod offline_cache_delivers_exactly_once;
#[cfg(feature = "axum")]
mod one_trace_across_sdks;
#[cfg(feature = "opentelemetry")]
mod opentelemetry_spans_reach_sentry;
mod outgoing_http_carries_the_trace;
mod panics_are_reported_as_fatal_events;
mod privacy_and_limits;
mod python_peer;
mod python_sdk_continues_a_trace;
#[cfg(feature = "axum")]
mod release_health;
mod response_matrix_is_honoured;
mod scopes_reach_events;
mod sdk_threads_stay_out_of_the_programs_subscriber;
mod shutdown_says_what_it_waits_for;
mod spotlight_receives_every_envelope;
mod tls_certificates_are_verified;
#[cfg(feature = "axum")]
mod tower_axum_requests;
mod transactions_carry_their_scope;
mod wire_format_is_exact;
