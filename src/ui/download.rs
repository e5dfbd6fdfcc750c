//! Saving what the app produced (CSV, SVG, PNG, HTML exports) as a file, via a Blob or data URL;
//! nothing is uploaded.

use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

/// Offers the resource at `url` (a data: or blob: URL the app made) as a download.
pub fn download_url(filename: &str, url: &str) -> Result<(), String> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let anchor: HtmlAnchorElement =
        document.create_element("a").map_err(|e| format!("{e:?}"))?.dyn_into().map_err(|_| "not an anchor")?;
    anchor.set_href(url);
    anchor.set_download(filename);
    anchor.click();
    Ok(())
}

/// Offers `text` as a download named `filename`.
pub fn download_text(filename: &str, mime: &str, text: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options).map_err(|e| format!("{e:?}"))?;
    let url = Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let anchor: HtmlAnchorElement =
        document.create_element("a").map_err(|e| format!("{e:?}"))?.dyn_into().map_err(|_| "not an anchor")?;
    anchor.set_href(&url);
    anchor.set_download(filename);
    anchor.click();
    // The click has started the download; the URL is no longer needed.
    let _ = Url::revoke_object_url(&url);
    Ok(())
}
