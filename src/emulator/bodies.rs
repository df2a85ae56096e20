//! Reading a request the way every route does (its body as a JSON object, its page and
//! page size), and answering a lookup.

use serde_json::Value;

use super::http::{Request, Response};
use crate::models::MAX_PER_PAGE;

pub(crate) fn json_object(request: &Request) -> Result<serde_json::Map<String, Value>, Response> {
    match serde_json::from_slice(&request.body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Response::error(
            400,
            "invalid_json",
            "the body is not a JSON object",
        )),
    }
}

pub(crate) fn paging(query: &[(String, String)]) -> Result<(usize, usize), Response> {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let page = match get("page") {
        None => 0,
        Some(v) => v.parse::<usize>().map_err(|_| {
            Response::error(400, "invalid_parameter", "page must be an integer >= 0")
        })?,
    };
    let per_page = match get("per_page") {
        None => 10,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PER_PAGE).contains(n))
            .ok_or_else(|| {
                Response::error(
                    400,
                    "invalid_parameter",
                    "per_page must be an integer from 1 to 100",
                )
            })? as usize,
    };
    Ok((page, per_page))
}

/// 200 with the object, or 404 naming what was looked for.
pub(crate) fn found(view: Option<Value>, what: &str, guid: &str) -> Response {
    match view {
        Some(view) => Response::json(200, &view),
        None => Response::error(404, "not_found", &format!("{what} {guid} not found")),
    }
}
