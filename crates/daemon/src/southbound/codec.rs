//! The telemetry Subscribe call with a decoder that parses each message from
//! one contiguous slice. tonic's stock prost decoder reads through its
//! `DecodeBuf` (and a `Take` per nested message), paying buffer bookkeeping on
//! every varint; on a stream of many small updates that is a large share of
//! the controller's decode time. The bytes are the same, only the reader is.

use std::marker::PhantomData;

use prost::bytes::Buf;
use prost::Message;
use tonic::codec::{Codec, DecodeBuf, Decoder, Streaming};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::{IntoStreamingRequest, Response, Status};
use tonic_prost::ProstEncoder;

use crate::proto::gnmi::{SubscribeRequest, SubscribeResponse};

pub struct SliceDecoder<D>(PhantomData<D>);

impl<D: Message + Default> Decoder for SliceDecoder<D> {
    type Item = D;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<D>, Status> {
        // Zero-copy: splits the frame off tonic's buffer.
        let frame = buf.copy_to_bytes(buf.remaining());
        D::decode(frame.as_ref())
            .map(Some)
            .map_err(|e| Status::internal(e.to_string()))
    }
}

struct SliceCodec<E, D>(PhantomData<(E, D)>);

impl<E, D> Codec for SliceCodec<E, D>
where
    E: Message + Send + 'static,
    D: Message + Default + Send + 'static,
{
    type Encode = E;
    type Decode = D;
    type Encoder = ProstEncoder<E>;
    type Decoder = SliceDecoder<D>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        SliceDecoder(PhantomData)
    }
}

/// gNMI Subscribe, as `GNmiClient::subscribe` but with `SliceDecoder`.
pub async fn subscribe(
    channel: super::credentials::DeviceChannel,
    request: impl IntoStreamingRequest<Message = SubscribeRequest>,
) -> Result<Response<Streaming<SubscribeResponse>>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel).max_decoding_message_size(64 << 20);
    grpc.ready()
        .await
        .map_err(|e| Status::unknown(format!("Service was not ready: {e}")))?;
    let path = PathAndQuery::from_static("/gnmi.gNMI/Subscribe");
    grpc.streaming(
        request.into_streaming_request(),
        path,
        SliceCodec::<SubscribeRequest, SubscribeResponse>(PhantomData),
    )
    .await
}
