//! The fault-injection gRPC service over a running simulated fabric.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::fabric::{FabricError, SimFabric};
use crate::proto::strata::sim::v1 as pb;
use pb::fault_injection_server::{FaultInjection, FaultInjectionServer};

pub struct FaultControl {
    fabric: Arc<SimFabric>,
}

pub fn service(fabric: Arc<SimFabric>) -> FaultInjectionServer<FaultControl> {
    FaultInjectionServer::new(FaultControl { fabric })
}

fn status(e: FabricError) -> Status {
    match e {
        FabricError::UnknownDevice(_) | FabricError::UnknownLink(_) => {
            Status::not_found(e.to_string())
        }
        FabricError::InvalidFault(_) => Status::invalid_argument(e.to_string()),
        FabricError::Bind { .. } => Status::unavailable(e.to_string()),
    }
}

fn reply(detail: String) -> Result<Response<pb::FaultReply>, Status> {
    tracing::info!(%detail, "fault injected");
    Ok(Response::new(pb::FaultReply { detail }))
}

#[tonic::async_trait]
impl FaultInjection for FaultControl {
    async fn impair_link(
        &self,
        req: Request<pb::ImpairLinkRequest>,
    ) -> Result<Response<pb::FaultReply>, Status> {
        let r = req.into_inner();
        self.fabric
            .impair(&r.link, r.extra_delay_us, r.loss_percent)
            .map_err(status)?;
        reply(format!(
            "{}: +{} µs, {}% loss",
            r.link, r.extra_delay_us, r.loss_percent
        ))
    }

    async fn cut_link(
        &self,
        req: Request<pb::LinkRequest>,
    ) -> Result<Response<pb::FaultReply>, Status> {
        let r = req.into_inner();
        self.fabric.cut(&r.link).map_err(status)?;
        reply(format!("{} cut", r.link))
    }

    async fn restore_link(
        &self,
        req: Request<pb::LinkRequest>,
    ) -> Result<Response<pb::FaultReply>, Status> {
        let r = req.into_inner();
        self.fabric.restore(&r.link).map_err(status)?;
        reply(format!("{} restored", r.link))
    }

    async fn miscable_links(
        &self,
        req: Request<pb::MiscableRequest>,
    ) -> Result<Response<pb::FaultReply>, Status> {
        let r = req.into_inner();
        self.fabric.miscable(&r.first, &r.second).map_err(status)?;
        reply(format!(
            "{} and {} miscabled (far ends swapped)",
            r.first, r.second
        ))
    }

    async fn degrade_osnr(
        &self,
        req: Request<pb::DegradeOsnrRequest>,
    ) -> Result<Response<pb::FaultReply>, Status> {
        let r = req.into_inner();
        self.fabric
            .degrade_osnr(&r.link, r.penalty_db)
            .map_err(status)?;
        reply(format!("{}: OSNR -{} dB", r.link, r.penalty_db))
    }

    async fn crash_device(
        &self,
        req: Request<pb::DeviceRequest>,
    ) -> Result<Response<pb::FaultReply>, Status> {
        let r = req.into_inner();
        self.fabric.crash(&r.device).await.map_err(status)?;
        reply(format!("{} crashed", r.device))
    }

    async fn restart_device(
        &self,
        req: Request<pb::DeviceRequest>,
    ) -> Result<Response<pb::FaultReply>, Status> {
        let r = req.into_inner();
        self.fabric
            .restart(&r.device, r.wipe)
            .await
            .map_err(status)?;
        reply(format!(
            "{} restarted{}",
            r.device,
            if r.wipe { " empty" } else { "" }
        ))
    }
}
