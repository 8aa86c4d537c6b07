//! The controller in strata.v1 terms: each call converts its request to the
//! domain (`convert`), asks the controller, and converts the answer back. The
//! gRPC services answer through it, and so can any in-process client that
//! speaks strata.v1 (the lab's tests, the benches).

use std::future::Future;

use super::convert;
use crate::controller::{ApiError, Controller};
use crate::proto::strata::v1 as api;

pub trait ControllerApi {
    fn create_policy(
        &self,
        req: api::CreatePolicyRequest,
    ) -> impl Future<Output = Result<api::Policy, ApiError>> + Send;
    fn get_policy(&self, id: &str) -> Result<api::Policy, ApiError>;
    fn list_policies(&self, headend: &str, owner: &str) -> Vec<api::Policy>;
    fn list_policies_page(
        &self,
        headend: &str,
        owner: &str,
        after: Option<&str>,
        limit: usize,
    ) -> (Vec<api::Policy>, bool);

    fn create_service(
        &self,
        req: api::CreateServiceRequest,
    ) -> impl Future<Output = Result<api::Service, ApiError>> + Send;
    fn get_service(&self, id: &str) -> Result<api::Service, ApiError>;
    fn list_services(&self) -> Vec<api::Service>;
    fn list_services_page(&self, after: Option<&str>, limit: usize) -> (Vec<api::Service>, bool);
    fn update_service(
        &self,
        req: api::UpdateServiceRequest,
    ) -> impl Future<Output = Result<api::Service, ApiError>> + Send;
    fn update_policy(
        &self,
        req: api::UpdatePolicyRequest,
    ) -> impl Future<Output = Result<api::Policy, ApiError>> + Send;

    fn create_wavelength(
        &self,
        req: api::CreateWavelengthRequest,
    ) -> impl Future<Output = Result<api::Wavelength, ApiError>> + Send;
    fn get_wavelength(&self, id: &str) -> Result<api::Wavelength, ApiError>;
    fn list_wavelengths(&self) -> Vec<api::Wavelength>;
    fn list_wavelengths_page(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> (Vec<api::Wavelength>, bool);
}

fn page<T, U>((items, more): (Vec<T>, bool), f: impl Fn(&T) -> U) -> (Vec<U>, bool) {
    (items.iter().map(f).collect(), more)
}

impl ControllerApi for Controller {
    async fn create_policy(&self, req: api::CreatePolicyRequest) -> Result<api::Policy, ApiError> {
        let made = self
            .create_policy_intent(convert::create_policy(req)?)
            .await?;
        Ok(convert::policy(&made))
    }

    fn get_policy(&self, id: &str) -> Result<api::Policy, ApiError> {
        Ok(convert::policy(&self.policy(id)?))
    }

    fn list_policies(&self, headend: &str, owner: &str) -> Vec<api::Policy> {
        self.policies(headend, owner)
            .iter()
            .map(convert::policy)
            .collect()
    }

    fn list_policies_page(
        &self,
        headend: &str,
        owner: &str,
        after: Option<&str>,
        limit: usize,
    ) -> (Vec<api::Policy>, bool) {
        page(
            self.policies_page(headend, owner, after, limit),
            convert::policy,
        )
    }

    async fn create_service(
        &self,
        req: api::CreateServiceRequest,
    ) -> Result<api::Service, ApiError> {
        let made = self
            .create_service_intent(convert::create_service(req)?)
            .await?;
        Ok(convert::service(&made))
    }

    fn get_service(&self, id: &str) -> Result<api::Service, ApiError> {
        Ok(convert::service(&self.service(id)?))
    }

    fn list_services(&self) -> Vec<api::Service> {
        self.services().iter().map(convert::service).collect()
    }

    fn list_services_page(&self, after: Option<&str>, limit: usize) -> (Vec<api::Service>, bool) {
        page(self.services_page(after, limit), convert::service)
    }

    async fn update_service(
        &self,
        req: api::UpdateServiceRequest,
    ) -> Result<api::Service, ApiError> {
        let u = convert::update_service(req)?;
        let changed = self
            .update_service_bandwidth(&u.id, u.revision, u.bandwidth_gbps)
            .await?;
        Ok(convert::service(&changed))
    }

    async fn update_policy(&self, req: api::UpdatePolicyRequest) -> Result<api::Policy, ApiError> {
        let (id, revision, constraints) = convert::update_policy(req)?;
        let changed = self
            .update_policy_constraints(&id, revision, constraints)
            .await?;
        Ok(convert::policy(&changed))
    }

    async fn create_wavelength(
        &self,
        req: api::CreateWavelengthRequest,
    ) -> Result<api::Wavelength, ApiError> {
        let made = self
            .create_wavelength_intent(convert::create_wavelength(req)?)
            .await?;
        Ok(convert::wavelength(&made))
    }

    fn get_wavelength(&self, id: &str) -> Result<api::Wavelength, ApiError> {
        Ok(convert::wavelength(&self.wavelength(id)?))
    }

    fn list_wavelengths(&self) -> Vec<api::Wavelength> {
        self.wavelengths().iter().map(convert::wavelength).collect()
    }

    fn list_wavelengths_page(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> (Vec<api::Wavelength>, bool) {
        page(self.wavelengths_page(after, limit), convert::wavelength)
    }
}
