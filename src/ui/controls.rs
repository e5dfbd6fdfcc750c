//! Small form controls shared by the analysis tabs.

use std::sync::Arc;

use leptos::prelude::*;

/// Names listed before the checklist asks for a filter text (a wide file has thousands).
const SHOWN: usize = 40;

/// One checkbox per name; `chosen` holds the ticked names (in the order they were ticked). A
/// long list shows the ticked names and the first matches of a filter box.
#[component]
pub fn Checklist(names: Vec<String>, chosen: RwSignal<Vec<String>>, testid: &'static str) -> impl IntoView {
    let total = names.len();
    let many = total > SHOWN;
    let names = Arc::new(names);
    let query = RwSignal::new(String::new());
    let visible = move || {
        let q = query.get().to_lowercase();
        // Untracked: ticking a box must not redraw the list under the pointer.
        let ticked = chosen.get_untracked();
        let mut shown: Vec<String> = names.iter().filter(|n| ticked.contains(n)).cloned().collect();
        let matching = names.iter().filter(|n| !ticked.contains(n) && (q.is_empty() || n.to_lowercase().contains(&q)));
        let room = if many { SHOWN.saturating_sub(shown.len()).max(10) } else { usize::MAX };
        shown.extend(matching.take(room).cloned());
        shown
    };
    view! {
        {many.then(|| view! {
            <input class="narrow checklist-filter" type="search" data-testid=format!("{testid}-filter")
                placeholder=format!("find among {total} columns") aria-label="Find a column"
                prop:value=move || query.get() on:input=move |e| query.set(event_target_value(&e))/>
        })}
        {move || visible().into_iter().map(|name| {
            let (shown, toggled) = (name.clone(), name.clone());
            view! {
                <label class="check" data-testid=testid>
                    <input type="checkbox" prop:checked=move || chosen.with(|c| c.contains(&shown))
                        on:change=move |e| {
                            let on = event_target_checked(&e);
                            chosen.update(|c| {
                                c.retain(|n| *n != toggled);
                                if on {
                                    c.push(toggled.clone());
                                }
                            });
                        }/>
                    {name}
                </label>
            }
        }).collect_view()}
    }
}

/// "N of M columns. Show K more": for lists drawn a part at a time (a wide file's thousands of
/// rows or cards would take seconds to draw). `shown` is how many are drawn; `step` how many a
/// click adds (`usize::MAX`: all). Nothing is shown once everything is drawn.
#[component]
pub fn ShowMore(shown: RwSignal<usize>, total: usize, step: usize, noun: &'static str, testid: &'static str) -> impl IntoView {
    use crate::format::format_count;
    move || {
        let drawn = shown.get().min(total);
        (drawn < total).then(|| {
            let left = total - drawn;
            let label = if step >= left { format!("Show all {}", format_count(total as u64)) } else { format!("Show {step} more") };
            view! {
                <p class="muted small">{format!("{} of {} {noun}. ", format_count(drawn as u64), format_count(total as u64))}
                    <button class="button small" data-testid=testid on:click=move |_| shown.update(|n| *n = n.saturating_add(step))>{label}</button>
                </p>
            }
        })
    }
}

/// The options of a select over `names`, `current` selected, with a "none" entry (empty value)
/// first when `none` labels one.
pub fn name_options(names: Vec<String>, current: Option<String>, none: Option<&'static str>) -> impl IntoView {
    let mut items: Vec<(String, String, bool)> = Vec::new();
    if let Some(label) = none {
        items.push((String::new(), label.to_string(), current.is_none()));
    }
    items.extend(names.into_iter().map(|name| {
        let selected = current.as_deref() == Some(name.as_str());
        (name.clone(), name, selected)
    }));
    items.into_iter().map(|(value, label, selected)| view! { <option value=value selected=selected>{label}</option> }).collect_view()
}

/// Shows its children one main-thread task later than the view around it: a large panel is
/// built in two tasks instead of one (each tab's first view also compiles the page's functions
/// it calls for the first time, which on the 1 M-row demo held the main thread over 50 ms).
///
/// With `defer` false it shows them at once: a view rebuilt for a small change (the same load's
/// distinct counts arriving) must not lose them for a frame.
#[component]
pub fn Later(children: ChildrenFn, #[prop(default = true)] defer: bool) -> impl IntoView {
    let ready = RwSignal::new(!defer);
    if defer {
        set_timeout(
            move || {
                ready.try_set(true);
            },
            std::time::Duration::ZERO,
        );
    }
    move || ready.get().then(|| children())
}
