//! `Maintenance`: drain and undrain links and nodes, and list the drains in
//! force. The controller (`controller/drain.rs`) does the work; this is its
//! strata.v1 conversion.

use tonic::{Request, Response, Status};

use super::{audited, convert, Northbound};
use crate::proto::strata::v1 as api;
use api::maintenance_server::Maintenance;

#[tonic::async_trait]
impl Maintenance for Northbound {
    async fn drain(
        &self,
        req: Request<api::DrainRequest>,
    ) -> Result<Response<api::DrainResponse>, Status> {
        let req = req.into_inner();
        let r = self.controller.drain(&req.target, &req.reason).await?;
        Ok(audited(
            &req.target,
            api::DrainResponse {
                drain: r.drain.as_ref().map(convert::drain_info),
                moved_policies: r.moved,
                unmoved_policies: r.unmoved,
                failed_policies: r.failed,
            },
        ))
    }

    async fn undrain(
        &self,
        req: Request<api::UndrainRequest>,
    ) -> Result<Response<api::UndrainResponse>, Status> {
        let req = req.into_inner();
        let r = self.controller.undrain(&req.target).await?;
        Ok(audited(
            &req.target,
            api::UndrainResponse {
                drain: r.drain.as_ref().map(convert::drain_info),
                links_back: r.links_back,
                restored_policies: r.restored,
            },
        ))
    }

    async fn list_drains(
        &self,
        _req: Request<api::ListDrainsRequest>,
    ) -> Result<Response<api::ListDrainsResponse>, Status> {
        Ok(Response::new(api::ListDrainsResponse {
            drains: self
                .controller
                .drains()
                .iter()
                .map(convert::drain_info)
                .collect(),
        }))
    }
}
