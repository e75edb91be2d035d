//! 县局名录: the county's offices and townships reach every office with sync and are used
//! offline: names instead of codes, and 交办 only to the county's townships, each known to have
//! an office enrolled or not.

#![allow(clippy::unwrap_used)]

use ledger_domain::ActionKind;
use ledger_office::ActionInput;
use ledger_tests::{County, case_input};

fn assign(to: &str) -> ActionInput {
    ActionInput { action: Some(ActionKind::Assign), target: Some(to.into()), ..Default::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_names_offices_and_lists_the_countys_townships() {
    let c = County::start("2024-03-10").await.unwrap();
    // Enrollment brought a directory already: names are known before the first sync.
    let d = c.a.office.directory().unwrap().expect("a directory at enrollment");
    assert_eq!(d.office_name("county"), Some("洞口县国土资源局"));
    assert!(!d.complete, "the county has not set its full list yet");

    c.hub
        .store()
        .set_county_townships(&["黄桥镇".into(), "石江镇".into(), "洞口镇".into()])
        .unwrap();
    c.bureau.sync().await.unwrap();
    c.a.sync().await.unwrap();
    let d = c.bureau.office.directory().unwrap().unwrap();
    assert!(d.complete);
    assert_eq!(d.townships, ["黄桥镇", "石江镇", "洞口镇"]);
    // An unchanged directory is not sent again.
    let version = d.version.clone();
    c.bureau.sync().await.unwrap();
    assert_eq!(c.bureau.office.directory().unwrap().unwrap().version, version);

    // The bureau's choices: every county township, with the offices enrolled for each.
    let choices = c.bureau.office.township_choices().unwrap();
    let names: Vec<&str> = choices.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["黄桥镇", "石江镇", "洞口镇"]);
    assert_eq!(choices[0].offices, ["黄桥镇国土所"]);
    assert!(choices[2].offices.is_empty(), "洞口镇 has no office enrolled");
    // A township office's choices are its own.
    let own: Vec<String> =
        c.a.office.township_choices().unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(own, ["黄桥镇"]);

    // 交办: to a county township, with or without an office; never to a name the county lacks.
    let id =
        c.bureau.office.register(&case_input("黄桥镇", "本局接收", "钱七", "界址"), None).unwrap();
    c.bureau
        .office
        .act(id, &ActionInput { action: Some(ActionKind::Accept), ..Default::default() })
        .unwrap();
    let err = c.bureau.office.act(id, &assign("洞口乡")).unwrap_err();
    assert!(err.to_string().contains("不是本县的乡镇"), "{err}");
    c.bureau.office.act(id, &assign("洞口镇")).unwrap();
    // Registration at the bureau names a county township too.
    let err =
        c.bureau.office.register(&case_input("某某镇", "本局接收", "孙八", "x"), None).unwrap_err();
    assert!(err.to_string().contains("某某镇"), "{err}");

    // Names, not codes, wherever a person reads: the township sees the bureau's name.
    let mine =
        c.a.office.register(&case_input("黄桥镇", "本局接收", "周九", "占地"), None).unwrap();
    c.a.sync().await.unwrap();
    c.bureau.sync().await.unwrap();
    let view = c.bureau.office.view(mine).unwrap();
    assert_eq!(view.office_names.get("hq").map(String::as_str), Some("黄桥镇国土所"));
    assert_eq!(c.a.office.office_name("county"), "洞口县国土资源局");
    assert_eq!(c.a.office.office_name("nowhere"), "nowhere");
}
