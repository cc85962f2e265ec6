// The one table of S3 errors: code → HTTP status and S3's default message.
// Handlers throw `S3Error`; http/respond.ts is the one place that renders them.

export const ERRORS = {
  AccessDenied: [403, 'Access Denied'],
  // A CORS preflight no rule allows (always with a CORSResponse message).
  AccessForbidden: [403, 'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.'],
  AccessControlListNotSupported: [400, 'The bucket does not allow ACLs'],
  AccountProblem: [403, 'There is a problem with your AWS account that prevents the operation from completing successfully.'],
  AmbiguousGrantByEmailAddress: [400, 'The email address you provided is associated with more than one account.'],
  AuthorizationHeaderMalformed: [400, 'The authorization header is malformed.'],
  AuthorizationQueryParametersError: [400, 'Error parsing the X-Amz-Credential parameter.'],
  BadRequest: [400, 'Bad Request'],
  BadDigest: [400, 'The Content-MD5 you specified did not match what we received.'],
  BucketAlreadyExists: [409, 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.'],
  BucketAlreadyOwnedByYou: [409, 'Your previous request to create the named bucket succeeded and you already own it.'],
  CrossLocationLoggingProhibited: [403, 'Cross-location logging not allowed. Buckets in one geographic location cannot log information to a bucket in another location.'],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty'],
  ConditionalRequestConflict: [409, 'The conditional request cannot succeed due to a conflicting operation against this resource.'],
  CredentialsNotSupported: [400, 'This request does not support credentials.'],
  EntityTooSmall: [400, 'Your proposed upload is smaller than the minimum allowed object size.'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed object size.'],
  ExpiredToken: [400, 'The provided token has expired.'],
  IllegalLocationConstraintException: [400, 'The specified location-constraint is not valid for this request.'],
  IllegalVersioningConfigurationException: [400, 'The Versioning element must be specified'],
  IncompleteBody: [400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.'],
  IncorrectNumberOfFilesInPostRequest: [400, 'POST requires exactly one file upload per request.'],
  InlineDataTooLarge: [400, 'Inline data exceeds the maximum allowed size.'],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
  // 507, not 500 or 503: the AWS SDKs, boto3, rclone and minio-go retry 500/502/503/504 (and
  // throttling codes) but not 507, so a client fails fast with a message saying what is wrong
  // instead of hammering a full disk in backoff loops; 503 would read as throttling. MinIO answers
  // 507 XMinioStorageFull for the same condition.
  InsufficientStorage: [507, "The server's storage is full. Delete objects or add capacity, then retry."],
  InvalidAccessKeyId: [403, 'The AWS Access Key Id you provided does not exist in our records.'],
  InvalidArgument: [400, 'Invalid Argument'],
  InvalidBucketAclWithBlockPublicAccessError: [400, 'Bucket cannot have public ACLs set with BlockPublicAccess enabled'],
  InvalidBucketAclWithObjectOwnership: [400, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"],
  InvalidBucketName: [400, 'The specified bucket is not valid.'],
  InvalidBucketState: [409, 'The request is not valid with the current state of the bucket.'],
  InvalidDigest: [400, 'The Content-MD5 you specified was invalid.'],
  InvalidEncryptionAlgorithmError: [400, 'The encryption request you specified is not valid. The valid value is AES256.'],
  InvalidLocationConstraint: [400, 'The specified location constraint is not valid.'],
  InvalidObjectState: [403, 'The operation is not valid for the current state of the object.'],
  InvalidPart: [400, 'One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.'],
  InvalidPartOrder: [400, 'The list of parts was not in ascending order. Parts must be ordered by part number.'],
  InvalidPartNumber: [416, 'The requested partnumber is not satisfiable'],
  InvalidPayer: [403, 'All access to this object has been disabled.'],
  InvalidPolicyDocument: [400, 'The content of the form does not meet the conditions specified in the policy document.'],
  InvalidRange: [416, 'The requested range is not satisfiable'],
  InvalidRedirectLocation: [400, "The website redirect location must have a prefix of 'http://' or 'https://' or '/'."],
  InvalidRequest: [400, 'Invalid Request'],
  InvalidRetentionPeriod: [400, 'The retention period specified is not valid.'],
  InvalidSecurity: [403, 'The provided security credentials are not valid.'],
  InvalidStorageClass: [400, 'The storage class you specified is not valid'],
  InvalidTag: [400, 'The tag provided was not a valid tag.'],
  InvalidTargetBucketForLogging: [400, 'The target bucket for logging does not exist, is not owned by you, or does not have the appropriate grants for the log-delivery group.'],
  InvalidToken: [400, 'The provided token is malformed or otherwise invalid.'],
  InvalidURI: [400, "Couldn't parse the specified URI."],
  KeyTooLongError: [400, 'Your key is too long'],
  MalformedACLError: [400, 'The XML you provided was not well-formed or did not validate against our published schema.'],
  MalformedPOSTRequest: [400, 'The body of your POST request is not well-formed multipart/form-data.'],
  MalformedPolicy: [400, 'Policy has invalid resource.'],
  MalformedTrailerError: [400, 'The request contained trailing data that was not well-formed or did not conform to our published schema.'],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not validate against our published schema.'],
  MaxMessageLengthExceeded: [400, 'Your request was too big.'],
  MaxPostPreDataLengthExceededError: [400, 'Your POST request fields preceding the upload file were too large.'],
  MetadataTooLarge: [400, 'Your metadata headers exceed the maximum allowed metadata size.'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  MissingRequestBodyError: [400, 'Request Body is empty'],
  MissingSecurityElement: [400, 'The SOAP 1.1 request is missing a security element.'],
  MissingSecurityHeader: [400, 'Your request was missing a required header.'],
  NoSuchBucket: [404, 'The specified bucket does not exist'],
  NoSuchBucketPolicy: [404, 'The bucket policy does not exist'],
  NoSuchCORSConfiguration: [404, 'The CORS configuration does not exist'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  NoSuchLifecycleConfiguration: [404, 'The lifecycle configuration does not exist'],
  NoSuchObjectLockConfiguration: [404, 'Object Lock configuration does not exist for this bucket'],
  NoSuchPublicAccessBlockConfiguration: [404, 'The public access block configuration was not found'],
  NoSuchTagSet: [404, 'The TagSet does not exist'],
  ReplicationConfigurationNotFoundError: [404, 'The replication configuration was not found'],
  NoSuchUpload: [404, 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.'],
  NoSuchVersion: [404, 'The specified version does not exist.'],
  NoSuchWebsiteConfiguration: [404, 'The specified bucket does not have a website configuration'],
  ServerSideEncryptionConfigurationNotFoundError: [404, 'The server side encryption configuration was not found'],
  NotImplemented: [501, 'A header you provided implies functionality that is not implemented.'],
  NotModified: [304, 'Not Modified'],
  ObjectLockConfigurationNotFoundError: [404, 'Object Lock configuration does not exist for this bucket'],
  // S3's code for GetBucketOwnershipControls on a bucket without them (not NoSuch…).
  OwnershipControlsNotFoundError: [404, 'The bucket ownership controls were not found'],
  OperationAborted: [409, 'A conflicting conditional operation is currently in progress against this resource. Try again.'],
  PermanentRedirect: [301, 'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.'],
  PreconditionFailed: [412, 'At least one of the pre-conditions you specified did not hold'],
  Redirect: [307, 'Temporary redirect.'],
  RequestIsNotMultiPartContent: [400, 'Bucket POST must be of the enclosure-type multipart/form-data.'],
  RequestTimeout: [400, 'Your socket connection to the server was not read from or written to within the timeout period.'],
  RestoreAlreadyInProgress: [409, 'Object restore is already in progress'],
  RequestTimeTooSkewed: [403, "The difference between the request time and the server's time is too large."],
  SignatureDoesNotMatch: [403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'],
  ServiceUnavailable: [503, 'Please reduce your request rate.'],
  SlowDown: [503, 'Please reduce your request rate.'],
  TooManyBuckets: [400, 'You have attempted to create more buckets than allowed.'],
  UnexpectedContent: [400, 'This request does not support content.'],
  UnresolvableGrantByEmailAddress: [400, 'The email address you provided does not match any account on record.'],
  UserKeyMustBeSpecified: [400, 'The bucket POST must contain the specified field name. If it is specified, check the order of the fields.'],
  XAmzContentSHA256Mismatch: [400, "The provided 'x-amz-content-sha256' header does not match what was computed."],
  InvalidChunkSizeError: [403, 'Only the last chunk is allowed to have a size less than 8192 bytes'],
  TooManyParts: [400, 'You have attempted to upload more parts than allowed.'],
  InvalidTagError: [400, 'The tag provided was not a valid tag.'],
  'KMS.NotFoundException': [400, 'Invalid keyId'],
  'KMS.DisabledException': [400, 'The KMS key is disabled.'],
} as const satisfies Record<string, readonly [number, string]>;

export type S3ErrorCode = keyof typeof ERRORS;

/** Extra elements rendered inside <Error> after Message (e.g. BucketName, Key, ServerTime). */
export type ErrorDetails = Record<string, string | number | undefined>;

export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  readonly details: ErrorDetails;
  /** Extra response headers (e.g. x-amz-delete-marker on a 404, Allow on a 405). */
  readonly headers: Record<string, string>;

  constructor(code: S3ErrorCode, message?: string, details: ErrorDetails = {}, headers: Record<string, string> = {}) {
    const [status, defaultMessage] = ERRORS[code];
    super(message ?? defaultMessage);
    this.name = 'S3Error';
    this.code = code;
    this.status = status;
    this.details = details;
    this.headers = headers;
  }
}

/** Shorthand: `throw s3err('NoSuchKey', { Key: key })`. */
export function s3err(code: S3ErrorCode, details: ErrorDetails = {}, message?: string): S3Error {
  return new S3Error(code, message, details);
}

export function isS3Error(e: unknown): e is S3Error {
  return e instanceof S3Error;
}
