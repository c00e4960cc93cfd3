// CloudFront Function (viewer request, cloudfront-js-2.0) on every shopper request: the address the
// viewer connected from, as CloudFront saw it, in a header the client cannot set (a value it sent is
// overwritten). WAF's per-client rate rules key on it; X-Forwarded-For's first address is the client's
// own claim.
function handler(event) {
  var request = event.request;
  request.headers["x-dropfront-viewer-ip"] = { value: event.viewer.ip };
  return request;
}
