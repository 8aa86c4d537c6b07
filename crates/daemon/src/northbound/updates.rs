//! `strata.v1.Updates`: changes to live intents against the caller's
//! revision, through the controller's pipeline (`controller/updates.rs`).

use tonic::{Request, Response, Status};

use super::{audited, ControllerApi, Northbound};
use crate::proto::strata::v1 as api;
use api::updates_server::Updates;

#[tonic::async_trait]
impl Updates for Northbound {
    async fn update_service(
        &self,
        req: Request<api::UpdateServiceRequest>,
    ) -> Result<Response<api::Service>, Status> {
        let changed =
            ControllerApi::update_service(self.controller.as_ref(), req.into_inner()).await?;
        Ok(audited(&changed.id.clone(), changed))
    }

    async fn update_policy(
        &self,
        req: Request<api::UpdatePolicyRequest>,
    ) -> Result<Response<api::Policy>, Status> {
        let changed =
            ControllerApi::update_policy(self.controller.as_ref(), req.into_inner()).await?;
        Ok(audited(&changed.id.clone(), changed))
    }
}
