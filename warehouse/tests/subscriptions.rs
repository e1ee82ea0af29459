//! Subscription, revenue and concurrency metrics on a small hand-built lake
//! whose answers are worked out by hand in the comments (not by running the
//! same SQL). Months January to April 2026; prices in minor units.
//!
//! | user | events                                                        | MRR at end of Jan / Feb / Mar / Apr |
//! |------|---------------------------------------------------------------|-------------------------------------|
//! | u1   | paid basic 1000 Jan 10, renewed Feb 10, upgrade to premium     | 1000 / 2000 / 2000 / 1000           |
//! |      | 2000 Feb 20, renewed Mar 10, downgrade to basic 1000 Apr 5     |                                     |
//! | u2   | paid standard 1500 Jan 5, canceled Feb 15, back Apr 3          | 1500 / 0 / 0 / 1500                 |
//! | u3   | paid 1500 Feb 2, canceled Feb 25 (join and leave), refund 1500 | 0 / 0 / 0 / 0                       |
//! | u4   | trial standard Jan 20, canceled Jan 27 (never converts)        | 0 / 0 / 0 / 0                       |
//! | u5   | trial premium Feb 25, plan_changed to basic Feb 27 (still in   | 0 / 0 / 1000 / 1000                 |
//! |      | trial), renewed basic 1000 Mar 4 (converts)                    |                                     |
//! | u6   | USD: paid 999 Mar 1, payment_failed Apr 1                      | USD 0 / 0 / 999 / 999               |
//! | u7   | paid basic 1000 Mar 15 (row written twice), upgrade to         | 0 / 0 / 1000 / 1500                 |
//! |      | standard 1500 Apr 15 (arriving three days late, own file)      |                                     |

mod common;

use common::{close, event, monthly, run, write};
use serde_json::{Value, json};
use showrunner_events::{Family, WireEvent};
use showrunner_warehouse::Lake;
use showrunner_warehouse::metrics::{self, Bucket, Params};

struct Events {
    rows: Vec<WireEvent>,
    n: u128,
}

impl Events {
    /// One event at `at` (RFC 3339 without the `Z`), received 100 ms later.
    fn add(&mut self, at: &str, ty: &str, user: Option<&str>, extra: Value) -> WireEvent {
        self.received(at, &format!("{at}.100Z"), ty, user, extra)
    }

    /// One event at `at`, received at `received`.
    fn received(
        &mut self,
        at: &str,
        received: &str,
        ty: &str,
        user: Option<&str>,
        extra: Value,
    ) -> WireEvent {
        self.n += 1;
        let mut v = json!({
            "event_id": uuid::Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0000 | self.n).to_string(),
            "event_type": ty, "schema_version": 1,
            "occurred_at": format!("{at}.000Z"),
            "received_at": received,
            "user_id": user,
        });
        for (k, x) in extra.as_object().expect("object") {
            v[k] = x.clone();
        }
        let w = event(&v);
        self.rows.push(w.clone());
        w
    }

    fn sub(&mut self, at: &str, ty: &str, user: &str, plan: &str, price: i64) -> WireEvent {
        let mut extra = json!({"plan": plan, "price_minor": price, "currency": "EUR"});
        if ty == "subscription_started" {
            extra["trial"] = json!(false);
        }
        self.add(at, ty, Some(user), extra)
    }

    fn view(&mut self, view: &str, user: Option<&str>, play: &str, ff: &str, end: &str) {
        let ctx = json!({"view_id": view, "title_id": "t1", "device_type": "tv", "os": "tizen",
            "player_name": "shaka", "player_version": "4", "app_version": "5", "cdn": "a",
            "country": "FR", "isp": "Orange", "network_type": "wifi"});
        self.add(play, "play_requested", user, ctx);
        self.add(
            ff,
            "first_frame",
            user,
            json!({"view_id": view, "title_id": "t1"}),
        );
        self.add(
            end,
            "view_ended",
            user,
            json!({"view_id": view, "title_id": "t1", "reason": "user_exit"}),
        );
    }
}

async fn lake() -> (tempfile::TempDir, Lake) {
    let mut b = Events {
        rows: Vec::new(),
        n: 0,
    };
    b.sub(
        "2026-01-10T09:00:00",
        "subscription_started",
        "u1",
        "basic",
        1000,
    );
    b.sub("2026-02-10T09:00:00", "renewed", "u1", "basic", 1000);
    b.sub("2026-02-20T09:00:00", "plan_changed", "u1", "premium", 2000);
    b.sub("2026-03-10T09:00:00", "renewed", "u1", "premium", 2000);
    b.sub("2026-04-05T09:00:00", "plan_changed", "u1", "basic", 1000);
    b.sub(
        "2026-01-05T09:00:00",
        "subscription_started",
        "u2",
        "standard",
        1500,
    );
    b.add("2026-02-15T09:00:00", "canceled", Some("u2"), json!({}));
    b.sub(
        "2026-04-03T09:00:00",
        "subscription_started",
        "u2",
        "standard",
        1500,
    );
    b.sub(
        "2026-02-02T09:00:00",
        "subscription_started",
        "u3",
        "standard",
        1500,
    );
    b.add("2026-02-25T09:00:00", "canceled", Some("u3"), json!({}));
    b.add(
        "2026-02-26T09:00:00",
        "refunded",
        Some("u3"),
        json!({"amount_minor": 1500, "currency": "EUR"}),
    );
    let trial = json!({"plan": "standard", "price_minor": 1500, "currency": "EUR", "trial": true});
    b.add(
        "2026-01-20T09:00:00",
        "subscription_started",
        Some("u4"),
        trial,
    );
    b.add("2026-01-27T09:00:00", "canceled", Some("u4"), json!({}));
    let trial = json!({"plan": "premium", "price_minor": 2000, "currency": "EUR", "trial": true});
    b.add(
        "2026-02-25T09:00:00",
        "subscription_started",
        Some("u5"),
        trial,
    );
    b.sub("2026-02-27T09:00:00", "plan_changed", "u5", "basic", 1000);
    b.sub("2026-03-04T09:00:00", "renewed", "u5", "basic", 1000);
    let usd = json!({"plan": "basic", "price_minor": 999, "currency": "USD", "trial": false});
    b.add(
        "2026-03-01T09:00:00",
        "subscription_started",
        Some("u6"),
        usd,
    );
    b.add(
        "2026-04-01T09:00:00",
        "payment_failed",
        Some("u6"),
        json!({"amount_minor": 999, "currency": "USD"}),
    );
    let dup = b.sub(
        "2026-03-15T09:00:00",
        "subscription_started",
        "u7",
        "basic",
        1000,
    );
    // TVOD and AVOD
    let rent = |title: &str, amount: i64, currency: &str| json!({"title_id": title, "amount_minor": amount, "currency": currency, "rental_hours": 48});
    b.add(
        "2026-01-12T20:00:00",
        "rental_purchased",
        Some("u1"),
        rent("t9", 399, "EUR"),
    );
    b.add(
        "2026-03-02T20:00:00",
        "rental_purchased",
        Some("u6"),
        rent("t9", 499, "USD"),
    );
    let ad = |micros: i64, currency: &str| json!({"revenue_micros": micros, "currency": currency});
    b.add(
        "2026-01-03T20:00:00",
        "ad_impression",
        Some("u8"),
        ad(2500, "EUR"),
    );
    b.add(
        "2026-01-03T20:01:00",
        "ad_impression",
        Some("u8"),
        ad(2500, "EUR"),
    );
    b.add(
        "2026-03-03T20:00:00",
        "ad_impression",
        Some("u9"),
        ad(1200, "USD"),
    );
    let billing = std::mem::take(&mut b.rows);

    // views: plans at their start, and three overlapping views for concurrency
    b.view(
        "p1",
        Some("u1"),
        "2026-01-15T12:00:00",
        "2026-01-15T12:00:30",
        "2026-01-15T12:03:00",
    );
    b.view(
        "p2",
        Some("u2"),
        "2026-01-15T12:01:50",
        "2026-01-15T12:02:00",
        "2026-01-15T12:04:10",
    );
    b.view(
        "p3",
        Some("u4"),
        "2026-01-15T11:58:00",
        "2026-01-15T11:58:30",
        "2026-01-15T12:01:30",
    );
    b.view(
        "p4",
        Some("u1"),
        "2026-02-21T20:00:00",
        "2026-02-21T20:00:01",
        "2026-02-21T20:00:30",
    );
    b.view(
        "p5",
        Some("u5"),
        "2026-02-26T20:00:00",
        "2026-02-26T20:00:01",
        "2026-02-26T20:00:30",
    );
    b.view(
        "p6",
        Some("u5"),
        "2026-02-28T20:00:00",
        "2026-02-28T20:00:01",
        "2026-02-28T20:00:30",
    );
    b.view(
        "p7",
        Some("u2"),
        "2026-03-01T20:00:00",
        "2026-03-01T20:00:01",
        "2026-03-01T20:00:30",
    );
    b.view(
        "p8",
        None,
        "2026-03-01T21:00:00",
        "2026-03-01T21:00:01",
        "2026-03-01T21:00:30",
    );
    // u1 again 17 minutes after p1 ended (same session), then after 39 (a new one)
    b.view(
        "p9",
        Some("u1"),
        "2026-01-15T12:20:00",
        "2026-01-15T12:20:01",
        "2026-01-15T12:20:30",
    );
    b.view(
        "p10",
        Some("u1"),
        "2026-01-15T13:00:00",
        "2026-01-15T13:00:01",
        "2026-01-15T13:00:30",
    );
    let player = std::mem::take(&mut b.rows);

    // an upgrade received three days after it happened, in a file of its own
    let late = b.received(
        "2026-04-15T09:00:00",
        "2026-04-18T09:00:00.000Z",
        "plan_changed",
        Some("u7"),
        json!({"plan": "standard", "price_minor": 1500, "currency": "EUR"}),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), Family::Billing, &billing, 1);
    write(dir.path(), Family::Billing, &[dup], 2); // redelivered copy
    write(dir.path(), Family::Billing, &[late], 3); // a late arrival
    write(dir.path(), Family::Player, &player, 4);
    let lake = Lake::open(dir.path()).await.expect("lake");
    (dir, lake)
}

fn window(from: &str, to: &str, bucket: Bucket) -> Params {
    Params {
        from: Some(metrics::date(from).expect("date")),
        to: Some(metrics::date(to).expect("date")),
        bucket,
        by: Vec::new(),
        filters: Vec::new(),
    }
}

#[tokio::test]
async fn mrr_replays_upgrades_downgrades_trials_and_cancels() {
    let (_d, lake) = lake().await;
    let (cols, rows) = run(&lake, "mrr", &monthly()).await;
    assert_eq!(cols, ["bucket", "currency", "mrr_minor", "paying_users"]);
    assert_eq!(
        rows,
        vec![
            vec![json!("2026-01-01"), json!("EUR"), json!(2500), json!(2)], // u1 1000 + u2 1500
            vec![json!("2026-02-01"), json!("EUR"), json!(2000), json!(1)], // u1 upgraded; u2 canceled; u5 in trial
            vec![json!("2026-03-01"), json!("EUR"), json!(4000), json!(3)], // u1 2000, u5 1000, u7 1000 (once)
            vec![json!("2026-03-01"), json!("USD"), json!(999), json!(1)],
            vec![json!("2026-04-01"), json!("EUR"), json!(5000), json!(4)], // u1 1000, u2 1500, u5 1000, u7 1500
            vec![json!("2026-04-01"), json!("USD"), json!(999), json!(1)], // payment_failed changes nothing
        ]
    );
    // the bucket asked for does not matter: MRR is monthly
    let (_, by_day) = run(&lake, "mrr", &Params::default()).await;
    assert_eq!(by_day, rows);
    let by_plan = Params {
        by: vec!["plan".into()],
        ..window("2026-04-01", "2026-05-01", Bucket::Month)
    };
    let (cols, rows) = run(&lake, "mrr", &by_plan).await;
    assert_eq!(
        cols,
        ["bucket", "currency", "plan", "mrr_minor", "paying_users"]
    );
    assert_eq!(
        rows,
        vec![
            vec![
                json!("2026-04-01"),
                json!("EUR"),
                json!("basic"),
                json!(2000),
                json!(2)
            ],
            vec![
                json!("2026-04-01"),
                json!("EUR"),
                json!("standard"),
                json!(3000),
                json!(2)
            ],
            vec![
                json!("2026-04-01"),
                json!("USD"),
                json!("basic"),
                json!(999),
                json!(1)
            ],
        ]
    );
}

#[tokio::test]
async fn movements_sum_to_the_change_in_mrr() {
    let (_d, lake) = lake().await;
    let (cols, rows) = run(&lake, "mrr_movements", &monthly()).await;
    assert_eq!(
        cols,
        [
            "bucket",
            "currency",
            "new",
            "expansion",
            "contraction",
            "churn",
            "reactivation",
            "net_new"
        ]
    );
    let r = |m: &str, c: &str, v: [i64; 6]| {
        let mut row = vec![json!(m), json!(c)];
        row.extend(v.iter().map(|x| json!(x)));
        row
    };
    assert_eq!(
        rows,
        vec![
            // January: everyone is new (u1 1000, u2 1500)
            r("2026-01-01", "EUR", [2500, 0, 0, 0, 0, 2500]),
            // February: u1 upgrade +1000, u2 churn 1500; u3's join-and-leave counts nowhere
            r("2026-02-01", "EUR", [0, 1000, 0, 1500, 0, -500]),
            // March: u5 converts from trial and u7 joins: new 2000
            r("2026-03-01", "EUR", [2000, 0, 0, 0, 0, 2000]),
            r("2026-03-01", "USD", [999, 0, 0, 0, 0, 999]),
            // April: u1 downgrade −1000, u2 comes back 1500
            // (and u7's late upgrade +500)
            r("2026-04-01", "EUR", [0, 500, 1000, 0, 1500, 1000]),
            r("2026-04-01", "USD", [0, 0, 0, 0, 0, 0]),
        ]
    );
}

#[tokio::test]
async fn customer_churn_ignores_join_and_leave() {
    let (_d, lake) = lake().await;
    let (cols, rows) = run(&lake, "customer_churn", &monthly()).await;
    assert_eq!(cols, ["bucket", "churned", "active_at_start", "rate"]);
    assert_eq!(
        rows,
        vec![
            vec![json!("2026-01-01"), json!(0), json!(0), Value::Null], // nobody paid before
            vec![json!("2026-02-01"), json!(1), json!(2), json!(0.5)],  // u2 of u1, u2
            vec![json!("2026-03-01"), json!(0), json!(1), json!(0.0)],  // u1
            vec![json!("2026-04-01"), json!(0), json!(4), json!(0.0)],  // u1, u5, u6, u7
        ]
    );
}

#[tokio::test]
async fn mrr_churn_gross_and_net() {
    let (_d, lake) = lake().await;
    let (cols, rows) = run(&lake, "mrr_churn", &monthly()).await;
    assert_eq!(cols, ["bucket", "currency", "gross", "net"]);
    assert_eq!(rows.len(), 6);
    assert_eq!(
        rows[0],
        vec![json!("2026-01-01"), json!("EUR"), Value::Null, Value::Null]
    );
    // February: MRR(Jan) 2500, churn 1500, expansion 1000
    close(&rows[1][2], 1500.0 / 2500.0);
    close(&rows[1][3], (1500.0 - 1000.0) / 2500.0);
    // March: MRR(Feb) 2000, no loss
    close(&rows[2][2], 0.0);
    close(&rows[2][3], 0.0);
    assert_eq!(rows[3][2], Value::Null, "USD had no MRR in February");
    // April: MRR(Mar) 4000, contraction 1000, expansion 500 (late), reactivation 1500
    close(&rows[4][2], 1000.0 / 4000.0);
    close(&rows[4][3], (1000.0 - 500.0 - 1500.0) / 4000.0);
    close(&rows[5][2], 0.0);
}

#[tokio::test]
async fn arpu_and_ltv() {
    let (_d, lake) = lake().await;
    let (cols, rows) = run(&lake, "arpu", &monthly()).await;
    assert_eq!(cols, ["bucket", "currency", "arpu_minor"]);
    let want = [
        2500.0 / 2.0,
        2000.0,
        4000.0 / 3.0,
        999.0,
        5000.0 / 4.0,
        999.0,
    ];
    assert_eq!(rows.len(), want.len());
    for (r, w) in rows.iter().zip(want) {
        close(&r[2], w);
    }
    // mean churn rate over m−2..m, null rates skipped: Jan none, Feb 0.5,
    // Mar (0.5 + 0)/2, Apr (0.5 + 0 + 0)/3
    let (cols, rows) = run(&lake, "ltv", &monthly()).await;
    assert_eq!(cols, ["bucket", "currency", "ltv_minor"]);
    assert_eq!(rows[0][2], Value::Null);
    close(&rows[1][2], 2000.0 / 0.5);
    close(&rows[2][2], (4000.0 / 3.0) / 0.25);
    close(&rows[3][2], 999.0 / 0.25);
    close(&rows[4][2], 1250.0 * 6.0);
    close(&rows[5][2], 999.0 * 6.0);
}

#[tokio::test]
async fn cohort_retention_by_first_paid_month() {
    let (_d, lake) = lake().await;
    let (cols, rows) = run(&lake, "cohort_retention", &monthly()).await;
    assert_eq!(
        cols,
        ["bucket", "offset", "cohort_size", "retained", "rate"]
    );
    // January cohort: u1, u2 (u4's trial never paid); March: u5, u6, u7
    let want = [
        ("2026-01-01", 0, 2, 2),
        ("2026-01-01", 1, 2, 1),
        ("2026-01-01", 2, 2, 1),
        ("2026-01-01", 3, 2, 2),
        ("2026-03-01", 0, 3, 3),
        ("2026-03-01", 1, 3, 3),
    ];
    assert_eq!(rows.len(), want.len());
    for (r, (c, k, n, kept)) in rows.iter().zip(want) {
        assert_eq!(&r[..4], &[json!(c), json!(k), json!(n), json!(kept)]);
        close(&r[4], f64::from(kept) / f64::from(n));
    }
    // a window keeps the cohorts and cells inside it
    let (_, rows) = run(
        &lake,
        "cohort_retention",
        &window("2026-02-15", "2026-04-01", Bucket::Month),
    )
    .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        &rows[0][..4],
        &[json!("2026-03-01"), json!(0), json!(3), json!(3)]
    );
}

#[tokio::test]
async fn cohort_mrr_retention_counts_expansion_per_currency() {
    let (_d, lake) = lake().await;
    let (cols, rows) = run(&lake, "cohort_mrr_retention", &monthly()).await;
    assert_eq!(
        cols,
        [
            "bucket",
            "currency",
            "offset",
            "cohort_mrr_minor",
            "mrr_minor",
            "rate"
        ]
    );
    // January (EUR): u1 1000 + u2 1500; then u1 2000 (u2 gone), u1 2000,
    // u1 1000 + u2 1500 back. March: EUR u5 1000 + u7 1000, then u5 1000 +
    // u7 1500 (the upgrade: more than the cohort began with); USD u6 999.
    let want = [
        ("2026-01-01", "EUR", 0, 2500, 2500),
        ("2026-01-01", "EUR", 1, 2500, 2000),
        ("2026-01-01", "EUR", 2, 2500, 2000),
        ("2026-01-01", "EUR", 3, 2500, 2500),
        ("2026-03-01", "EUR", 0, 2000, 2000),
        ("2026-03-01", "EUR", 1, 2000, 2500),
        ("2026-03-01", "USD", 0, 999, 999),
        ("2026-03-01", "USD", 1, 999, 999),
    ];
    assert_eq!(rows.len(), want.len(), "{rows:?}");
    for (r, (c, cur, k, base, kept)) in rows.iter().zip(want) {
        assert_eq!(
            &r[..5],
            &[json!(c), json!(cur), json!(k), json!(base), json!(kept)]
        );
        close(&r[5], f64::from(kept) / f64::from(base));
    }
}

#[tokio::test]
async fn monthly_window_selects_overlapping_months() {
    let (_d, lake) = lake().await;
    let (_, rows) = run(
        &lake,
        "mrr",
        &window("2026-02-15", "2026-04-01", Bucket::Day),
    )
    .await;
    let months: Vec<&Value> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(
        months,
        [
            &json!("2026-02-01"),
            &json!("2026-03-01"),
            &json!("2026-03-01")
        ]
    );
}

#[tokio::test]
async fn transactional_and_ad_revenue() {
    let (_d, lake) = lake().await;
    let (cols, rows) = run(&lake, "transactional_revenue", &monthly()).await;
    assert_eq!(
        cols,
        [
            "bucket",
            "currency",
            "revenue_minor",
            "rentals",
            "refunds_minor"
        ]
    );
    assert_eq!(
        rows,
        vec![
            vec![
                json!("2026-01-01"),
                json!("EUR"),
                json!(399),
                json!(1),
                json!(0)
            ],
            vec![
                json!("2026-02-01"),
                json!("EUR"),
                json!(0),
                json!(0),
                json!(1500)
            ],
            vec![
                json!("2026-03-01"),
                json!("USD"),
                json!(499),
                json!(1),
                json!(0)
            ],
        ]
    );
    let (cols, rows) = run(&lake, "ad_revenue", &Params::default()).await;
    assert_eq!(
        cols,
        ["bucket", "currency", "revenue_micros", "impressions"]
    );
    assert_eq!(
        rows,
        vec![
            vec![json!("2026-01-03"), json!("EUR"), json!(5000), json!(2)],
            vec![json!("2026-03-03"), json!("USD"), json!(1200), json!(1)],
        ]
    );
    let (_, rows) = run(
        &lake,
        "ad_revenue",
        &window("2026-01-04", "2026-12-01", Bucket::Day),
    )
    .await;
    assert_eq!(rows.len(), 1);
}

#[tokio::test]
async fn views_break_down_by_the_plan_held_at_their_start() {
    let (_d, lake) = lake().await;
    let p = Params {
        by: vec!["plan".into()],
        ..monthly()
    };
    let (cols, rows) = run(&lake, "active_users", &p).await;
    assert_eq!(cols, ["bucket", "plan", "users"]);
    let mut got: Vec<(String, Value, i64)> = rows
        .iter()
        .map(|r| {
            (
                r[0].as_str().expect("bucket").to_owned(),
                r[1].clone(),
                r[2].as_i64().expect("n"),
            )
        })
        .collect();
    got.sort_by(|a, b| (&a.0, a.1.to_string()).cmp(&(&b.0, b.1.to_string())));
    assert_eq!(
        got,
        vec![
            // u1 basic, u2 standard, u4 before its trial: no plan
            ("2026-01-01".into(), json!("basic"), 1),
            ("2026-01-01".into(), json!("standard"), 1),
            ("2026-01-01".into(), Value::Null, 1),
            // u5 after the in-trial plan change
            ("2026-02-01".into(), json!("basic"), 1),
            // u1 after the upgrade; u5 in its premium trial
            ("2026-02-01".into(), json!("premium"), 2),
            // u2 canceled (the anonymous viewer is no user)
            ("2026-03-01".into(), Value::Null, 1),
        ]
    );
    let e = metrics::render(metrics::find("mrr_movements").expect("m"), &p).expect_err("no plan");
    assert!(
        e.to_string().contains("does not break down by `plan`"),
        "{e}"
    );
}

#[tokio::test]
async fn concurrent_viewers_per_whole_minute() {
    let (_d, lake) = lake().await;
    // p3 plays 11:58:30–12:01:30, p1 12:00:30–12:03:00, p2 12:02:00–12:04:10:
    // minute 11:59 → 1, 12:00 → 1, 12:01 → 2, 12:02 → 2 (p2's first frame
    // is at 12:02 exactly), 12:03 → 1 (p1 ends at 12:03, exclusive), 12:04 → 1
    let p = window("2026-01-15", "2026-01-16", Bucket::Hour);
    let (cols, rows) = run(&lake, "concurrent_viewers", &p).await;
    assert_eq!(cols, ["bucket", "peak", "average"]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][..2], [json!("2026-01-15T11:00:00Z"), json!(1)]);
    close(&rows[0][2], 1.0 / 60.0);
    assert_eq!(rows[1][..2], [json!("2026-01-15T12:00:00Z"), json!(2)]);
    close(&rows[1][2], 7.0 / 60.0);
    let (_, rows) = run(
        &lake,
        "concurrent_viewers",
        &window("2026-01-15", "2026-01-16", Bucket::Day),
    )
    .await;
    assert_eq!(rows[0][..2], [json!("2026-01-15"), json!(2)]);
    close(&rows[0][2], 8.0 / 1440.0);
    // the month: p4..p8 each play under a minute with no whole minute inside
    let (_, rows) = run(&lake, "concurrent_viewers", &monthly()).await;
    assert_eq!(rows.len(), 1);
    close(&rows[0][2], 8.0 / (31.0 * 1440.0));
    // a window cutting the bucket divides by the minutes inside it
    let p = Params {
        from: Some(metrics::date("2026-01-15").expect("date")),
        to: Some(metrics::date("2026-01-17").expect("date")),
        ..monthly()
    };
    let (_, rows) = run(&lake, "concurrent_viewers", &p).await;
    close(&rows[0][2], 8.0 / (2.0 * 1440.0));
}

#[tokio::test]
async fn watch_sessions_split_on_thirty_minute_gaps() {
    let (_d, lake) = lake().await;
    let (_, b) = showrunner_warehouse::query::run(
        &lake,
        "SELECT user_id, session_no, views, playing_ms, end_ms - start_ms AS span_ms \
         FROM watch_sessions ORDER BY user_id, session_no",
    )
    .await
    .expect("query");
    let rows = showrunner_warehouse::output::rows(&b).expect("rows");
    let s = |u: &str, n: i64, views: i64, playing: i64, span: i64| {
        vec![
            json!(u),
            json!(n),
            json!(views),
            json!(playing),
            json!(span),
        ]
    };
    assert_eq!(
        rows,
        vec![
            // p1 12:00:00–12:03:00 (played 150 s) and p9 12:20:00–12:20:30 (29 s)
            s("u1", 1, 2, 150_000 + 29_000, 20 * 60_000 + 30_000),
            s("u1", 2, 1, 29_000, 30_000),   // p10, 39.5 minutes later
            s("u1", 3, 1, 29_000, 30_000),   // p4, February
            s("u2", 1, 1, 130_000, 140_000), // p2 12:01:50–12:04:10, first frame 12:02:00
            s("u2", 2, 1, 29_000, 30_000),   // p7, March
            s("u4", 1, 1, 180_000, 210_000), // p3 11:58:00–12:01:30, first frame 11:58:30
            s("u5", 1, 1, 29_000, 30_000),
            s("u5", 2, 1, 29_000, 30_000),
        ]
    );
}
