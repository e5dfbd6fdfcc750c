//! Small form controls shared by the analysis tabs.

use leptos::prelude::*;

/// One checkbox per name; `chosen` holds the ticked names (in the order they were ticked).
#[component]
pub fn Checklist(names: Vec<String>, chosen: RwSignal<Vec<String>>, testid: &'static str) -> impl IntoView {
    names
        .into_iter()
        .map(|name| {
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
        })
        .collect_view()
}
