// Parses a server access log record: one regular expression for S3's whole format, every field in
// order, with its own shape (so a field out of place, unquoted or with a space fails to match).

export const RECORD = new RegExp(
  '^' +
    [
      '(?<bucketOwner>[0-9A-Za-z$_-]+)',
      '(?<bucket>[a-z0-9.-]+)',
      '\\[(?<time>\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} \\+0000)\\]',
      '(?<remoteIp>[0-9a-fA-F.:]+|-)',
      '(?<requester>[0-9a-zA-Z$_-]+|arn:aws:(?:iam|sts)::\\d{12}:\\S+|-)',
      '(?<requestId>[0-9A-Z]+)',
      '(?<operation>(?:REST|BATCH|S3)\\.[A-Z]+\\.[A-Z_]+)',
      '(?<key>[^\\s"\\[\\]]+)',
      '"(?<requestUri>(?:[^"\\\\]|\\\\.)*)"',
      '(?<status>\\d{3})',
      '(?<errorCode>[A-Za-z]+|-)',
      '(?<bytesSent>\\d+|-)',
      '(?<objectSize>\\d+|-)',
      '(?<totalTime>\\d+)',
      '(?<turnAround>\\d+|-)',
      '"(?<referer>(?:[^"\\\\]|\\\\.)*)"',
      '"(?<userAgent>(?:[^"\\\\]|\\\\.)*)"',
      '(?<versionId>[^\\s"\\[\\]]+)',
      '(?<hostId>[^\\s"\\[\\]]+)',
      '(?<signatureVersion>SigV2|SigV4|-)',
      '(?<cipherSuite>[^\\s"\\[\\]]+)',
      '(?<authType>AuthHeader|QueryString|-)',
      '(?<hostHeader>[^\\s"\\[\\]]+)',
      '(?<tlsVersion>[^\\s"\\[\\]]+)',
      '(?<accessPointArn>[^\\s"\\[\\]]+)',
      '(?<aclRequired>Yes|-)',
    ].join(' ') +
    '$',
);

export type Fields = Record<
  | 'bucketOwner' | 'bucket' | 'time' | 'remoteIp' | 'requester' | 'requestId' | 'operation' | 'key' | 'requestUri' | 'status'
  | 'errorCode' | 'bytesSent' | 'objectSize' | 'totalTime' | 'turnAround' | 'referer' | 'userAgent' | 'versionId' | 'hostId'
  | 'signatureVersion' | 'cipherSuite' | 'authType' | 'hostHeader' | 'tlsVersion' | 'accessPointArn' | 'aclRequired',
  string
>;

/** The fields of a record; throws on a malformed one. */
export function parseRecord(line: string): Fields {
  const m = RECORD.exec(line);
  if (!m?.groups) throw new Error(`malformed access log record: ${JSON.stringify(line)}`);
  return m.groups as Fields;
}
