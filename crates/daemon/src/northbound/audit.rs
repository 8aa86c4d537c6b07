//! `strata.v1.Audit`: the audit trail, for admins (the role rule for a
//! service without one of its own).

use tonic::{Request, Response, Status};

use super::paging::Page;
use super::Northbound;
use crate::audit::AuditRecord;
use crate::proto::strata::v1 as api;
use api::audit_server::Audit;

#[tonic::async_trait]
impl Audit for Northbound {
    async fn list_audit(
        &self,
        req: Request<api::ListAuditRequest>,
    ) -> Result<Response<api::ListAuditResponse>, Status> {
        let r = req.into_inner();
        let page = Page::new("ListAudit", &[&r.principal], r.page_size, &r.page_token)?;
        // Keys are zero-padded sequences, so the token's string order is
        // the sequence order.
        let after = match page.after() {
            None => None,
            Some(key) => Some(key.parse::<u64>().map_err(|_| {
                Status::invalid_argument("page_token: not a position in the audit trail")
            })?),
        };
        let (records, more) = self.audit.page(&r.principal, after, page.size);
        let last = records.last().map(|r| format!("{:020}", r.sequence));
        Ok(Response::new(api::ListAuditResponse {
            next_page_token: page.next_token(last.as_deref(), more),
            records: records.iter().map(|r| to_api(r)).collect(),
        }))
    }
}

fn to_api(r: &AuditRecord) -> api::AuditRecord {
    api::AuditRecord {
        sequence: r.sequence,
        timestamp_ns: r.timestamp_ns,
        principal: r.principal.clone(),
        role: r.role.clone(),
        method: r.method.clone(),
        object: r.object.clone(),
        code: r.code.clone(),
        message: r.message.clone(),
        peer: r.peer.clone(),
        duration_us: r.duration_us,
    }
}
