//! Northbound: the `strata.v1` gRPC API, with the standard health service and
//! server reflection so grpcurl / grpcio users can discover it.

mod audit;
pub mod convert;
mod facade;
pub mod maintenance;
pub mod paging;
mod topology;
pub mod topology_changes;
mod updates;
mod watch;
pub mod whatif;

pub use crate::controller::limits::MAX_REQUEST_BYTES;
pub use facade::ControllerApi;
pub use paging::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use watch::{MAX_FILTER_ENTRIES, MAX_WATCH_BACKLOG_BYTES};

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

use crate::audit::AuditLog;
use crate::controller::Controller;
use crate::proto::strata::v1 as api;
use crate::security::{AuthLayer, Authenticator};
use api::audit_server::AuditServer;
use api::events_server::EventsServer;
use api::maintenance_server::MaintenanceServer;
use api::policies_server::{Policies, PoliciesServer};
use api::services_server::{Services, ServicesServer};
use api::topology_changes_server::TopologyChangesServer;
use api::topology_server::TopologyServer;
use api::updates_server::UpdatesServer;
use api::wavelengths_server::{Wavelengths, WavelengthsServer};
use api::what_if_server::WhatIfServer;
use paging::Page;

#[derive(Clone)]
pub struct Northbound {
    controller: Arc<Controller>,
    audit: Arc<AuditLog>,
    /// One permit per open Watch/WatchTelemetry stream (see `watch::MAX_STREAMS`).
    streams: Arc<tokio::sync::Semaphore>,
    /// IGP trees what-ifs keep between calls (`whatif.rs`).
    whatif_trees: Arc<std::sync::Mutex<crate::pathcomp::IgpTrees>>,
}

impl Northbound {
    pub fn new(controller: Arc<Controller>, audit: Arc<AuditLog>) -> Self {
        Northbound {
            controller,
            audit,
            streams: Arc::new(tokio::sync::Semaphore::new(watch::MAX_STREAMS)),
            whatif_trees: Default::default(),
        }
    }
}

/// Marks a response with the object it created or deleted, for the audit
/// trail.
fn audited<T>(object: &str, message: T) -> Response<T> {
    let mut r = Response::new(message);
    r.extensions_mut()
        .insert(crate::security::layer::AuditObject(object.to_string()));
    r
}

/// More gRPC services to serve beside `strata.v1` on the same port: the lab
/// adds the simulated fabric's fault injection this way, so the production
/// crates never depend on the simulators.
pub struct ExtraServices {
    /// Their full gRPC names, so reflection advertises them (and nothing
    /// that is not served here).
    pub names: Vec<&'static str>,
    pub add: Box<dyn FnOnce(&mut tonic::service::RoutesBuilder) + Send>,
}

fn name<S: tonic::server::NamedService>() -> &'static str {
    S::NAME
}

/// As `serve`, plus `extra` services on the same port (the lab's single
/// address for both orchestrators and lab users).
pub async fn serve_with(
    controller: Arc<Controller>,
    listener: TcpListener,
    security: Secured,
    audit: Arc<AuditLog>,
    extra: Option<ExtraServices>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let nb = Northbound::new(controller, audit.clone());
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<PoliciesServer<Northbound>>()
        .await;
    health_reporter
        .set_serving::<ServicesServer<Northbound>>()
        .await;
    health_reporter
        .set_serving::<WavelengthsServer<Northbound>>()
        .await;
    health_reporter
        .set_serving::<TopologyServer<Northbound>>()
        .await;
    health_reporter
        .set_serving::<EventsServer<Northbound>>()
        .await;
    health_reporter
        .set_serving::<AuditServer<Northbound>>()
        .await;
    health_reporter
        .set_serving::<WhatIfServer<Northbound>>()
        .await;
    health_reporter
        .set_serving::<MaintenanceServer<Northbound>>()
        .await;
    health_reporter
        .set_serving::<UpdatesServer<Northbound>>()
        .await;
    health_reporter
        .set_serving::<TopologyChangesServer<Northbound>>()
        .await;
    // Reflection advertises exactly what this port serves (the descriptor set
    // also holds gNMI and the simulators' fault injection), in both protocol
    // versions: grpcurl 1.8 and grpcio-reflection still speak v1alpha.
    let mut served = vec![
        name::<TopologyServer<Northbound>>(),
        name::<PoliciesServer<Northbound>>(),
        name::<ServicesServer<Northbound>>(),
        name::<WavelengthsServer<Northbound>>(),
        name::<EventsServer<Northbound>>(),
        name::<AuditServer<Northbound>>(),
        name::<WhatIfServer<Northbound>>(),
        name::<MaintenanceServer<Northbound>>(),
        name::<UpdatesServer<Northbound>>(),
        name::<TopologyChangesServer<Northbound>>(),
        "grpc.health.v1.Health",
    ];
    if let Some(extra) = &extra {
        served.extend(extra.names.iter().copied());
    }
    let reflection = || {
        served.iter().fold(
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET),
            |b, name| b.with_service_name(*name),
        )
    };
    // One request is at most MAX_REQUEST_BYTES encoded (tonic's default is
    // 4 MiB): a larger one is refused with OUT_OF_RANGE before it is decoded,
    // so no single message can make the server hold much; the field and list
    // limits in `controller::intent::limits` bound what is kept of it.
    let max = MAX_REQUEST_BYTES;
    let reflection_v1 = reflection().build_v1()?.max_decoding_message_size(max);
    let reflection_v1alpha = reflection().build_v1alpha()?.max_decoding_message_size(max);
    let mut routes = tonic::service::RoutesBuilder::default();
    routes
        .add_service(health.max_decoding_message_size(max))
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(TopologyServer::new(nb.clone()).max_decoding_message_size(max))
        .add_service(PoliciesServer::new(nb.clone()).max_decoding_message_size(max))
        .add_service(ServicesServer::new(nb.clone()).max_decoding_message_size(max))
        .add_service(WavelengthsServer::new(nb.clone()).max_decoding_message_size(max))
        .add_service(EventsServer::new(nb.clone()).max_decoding_message_size(max))
        .add_service(WhatIfServer::new(nb.clone()).max_decoding_message_size(max))
        .add_service(MaintenanceServer::new(nb.clone()).max_decoding_message_size(max))
        .add_service(UpdatesServer::new(nb.clone()).max_decoding_message_size(max))
        .add_service(TopologyChangesServer::new(nb.clone()).max_decoding_message_size(max))
        .add_service(AuditServer::new(nb).max_decoding_message_size(max));
    if let Some(extra) = extra {
        (extra.add)(&mut routes);
    }
    let mut server = tonic::transport::Server::builder()
        .layer(AuthLayer::new(security.auth, audit).gated(security.gate));
    let router = server.add_routes(routes.routes());
    match security.tls {
        Some(tls) => {
            router
                .serve_with_incoming_shutdown(
                    crate::security::tls::incoming(listener, tls),
                    shutdown,
                )
                .await?
        }
        None => {
            router
                .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
                .await?
        }
    }
    Ok(())
}

/// The API's transport and who it lets in, resolved from
/// [`crate::security::Security`] before the port opens.
pub struct Secured {
    pub tls: Option<Arc<crate::security::tls::ReloadingTls>>,
    pub auth: Authenticator,
    /// A replica's: changes are refused unless it leads.
    pub gate: Option<Arc<crate::replica::Gate>>,
}

impl Secured {
    pub fn from(security: &crate::security::Security) -> anyhow::Result<Secured> {
        security.check()?;
        Ok(Secured {
            tls: security.server_tls()?,
            auth: security.authenticator()?,
            gate: None,
        })
    }
}

/// Binds the northbound address, with a clear error when it is taken.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    crate::net::listen(addr)
        .map_err(|e| anyhow::anyhow!("cannot listen for the northbound API on {addr}: {e}"))
}

#[tonic::async_trait]
impl Policies for Northbound {
    async fn create_policy(
        &self,
        req: Request<api::CreatePolicyRequest>,
    ) -> Result<Response<api::Policy>, Status> {
        let made = self.controller.create_policy(req.into_inner()).await?;
        Ok(audited(&made.id.clone(), made))
    }

    async fn get_policy(
        &self,
        req: Request<api::GetPolicyRequest>,
    ) -> Result<Response<api::Policy>, Status> {
        Ok(Response::new(
            self.controller.get_policy(&req.into_inner().id)?,
        ))
    }

    async fn list_policies(
        &self,
        req: Request<api::ListPoliciesRequest>,
    ) -> Result<Response<api::ListPoliciesResponse>, Status> {
        let r = req.into_inner();
        let page = Page::new(
            "ListPolicies",
            &[&r.headend, &r.owner],
            r.page_size,
            &r.page_token,
        )?;
        let (policies, more) =
            self.controller
                .list_policies_page(&r.headend, &r.owner, page.after(), page.size);
        Ok(Response::new(api::ListPoliciesResponse {
            next_page_token: page.next_token(policies.last().map(|p| p.id.as_str()), more),
            policies,
        }))
    }

    async fn delete_policy(
        &self,
        req: Request<api::DeletePolicyRequest>,
    ) -> Result<Response<api::DeletePolicyResponse>, Status> {
        let r = req.into_inner();
        let revision = self.controller.delete_policy(&r.id, r.revision).await?;
        Ok(audited(&r.id, api::DeletePolicyResponse { revision }))
    }
}

#[tonic::async_trait]
impl Services for Northbound {
    async fn create_service(
        &self,
        req: Request<api::CreateServiceRequest>,
    ) -> Result<Response<api::Service>, Status> {
        let made = self.controller.create_service(req.into_inner()).await?;
        Ok(audited(&made.id.clone(), made))
    }

    async fn get_service(
        &self,
        req: Request<api::GetServiceRequest>,
    ) -> Result<Response<api::Service>, Status> {
        Ok(Response::new(
            self.controller.get_service(&req.into_inner().id)?,
        ))
    }

    async fn list_services(
        &self,
        req: Request<api::ListServicesRequest>,
    ) -> Result<Response<api::ListServicesResponse>, Status> {
        let r = req.into_inner();
        let page = Page::new("ListServices", &[], r.page_size, &r.page_token)?;
        let (services, more) = self.controller.list_services_page(page.after(), page.size);
        Ok(Response::new(api::ListServicesResponse {
            next_page_token: page.next_token(services.last().map(|s| s.id.as_str()), more),
            services,
        }))
    }

    async fn delete_service(
        &self,
        req: Request<api::DeleteServiceRequest>,
    ) -> Result<Response<api::DeleteServiceResponse>, Status> {
        let r = req.into_inner();
        let revision = self.controller.delete_service(&r.id, r.revision).await?;
        Ok(audited(&r.id, api::DeleteServiceResponse { revision }))
    }
}

#[tonic::async_trait]
impl Wavelengths for Northbound {
    async fn create_wavelength(
        &self,
        req: Request<api::CreateWavelengthRequest>,
    ) -> Result<Response<api::Wavelength>, Status> {
        let made = self.controller.create_wavelength(req.into_inner()).await?;
        Ok(audited(&made.id.clone(), made))
    }

    async fn get_wavelength(
        &self,
        req: Request<api::GetWavelengthRequest>,
    ) -> Result<Response<api::Wavelength>, Status> {
        Ok(Response::new(
            self.controller.get_wavelength(&req.into_inner().id)?,
        ))
    }

    async fn list_wavelengths(
        &self,
        req: Request<api::ListWavelengthsRequest>,
    ) -> Result<Response<api::ListWavelengthsResponse>, Status> {
        let r = req.into_inner();
        let page = Page::new("ListWavelengths", &[], r.page_size, &r.page_token)?;
        let (wavelengths, more) = self
            .controller
            .list_wavelengths_page(page.after(), page.size);
        Ok(Response::new(api::ListWavelengthsResponse {
            next_page_token: page.next_token(wavelengths.last().map(|w| w.id.as_str()), more),
            wavelengths,
        }))
    }

    async fn delete_wavelength(
        &self,
        req: Request<api::DeleteWavelengthRequest>,
    ) -> Result<Response<api::DeleteWavelengthResponse>, Status> {
        let r = req.into_inner();
        let revision = self.controller.delete_wavelength(&r.id, r.revision).await?;
        Ok(audited(&r.id, api::DeleteWavelengthResponse { revision }))
    }
}
