// The XML request reader: its default shape (attributes ignored, as every caller before ACLs
// relies on) and the opt-in attribute mode that ACL documents need for Grantee's xsi:type.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { S3Error } from '../../src/s3/errors.js';
import { ATTRS, TEXT, XmlReader, attributesOf, childText, children, parseXmlBody, renderXml, type ParsedXml } from '../../src/s3/xml.js';

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

// The Grantee shape of the AccessControlPolicy example in
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAcl.html
const GRANTEE_DOC = `<?xml version="1.0" encoding="UTF-8"?>
<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Owner><ID>852b113e7a2f25102679df27bb0ae12b3f85be6f290b936c4393484be31bebcc</ID></Owner>
  <AccessControlList>
    <Grant>
      <Grantee xmlns:xsi="${XSI}" xsi:type="CanonicalUser">
        <ID>852b113e7a2f25102679df27bb0ae12b3f85be6f290b936c4393484be31bebcc</ID>
      </Grantee>
      <Permission>FULL_CONTROL</Permission>
    </Grant>
    <Grant>
      <Grantee xmlns:xsi="${XSI}" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee>
      <Permission>READ</Permission>
    </Grant>
  </AccessControlList>
</AccessControlPolicy>`;

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof S3Error, String(e));
    return e.code;
  }
  return 'no error';
}

describe('XmlReader without attributes (the default every existing caller uses)', () => {
  it('reads elements that carry attributes exactly as if they had none', () => {
    const doc = parseXmlBody(GRANTEE_DOC, 'AccessControlPolicy');
    const grants = children(children(doc, 'AccessControlList')[0], 'Grant');
    assert.equal(grants.length, 2);
    const g0 = children(grants[0], 'Grantee')[0] as Record<string, ParsedXml>;
    assert.deepEqual(Object.keys(g0), ['ID']);
    assert.deepEqual(attributesOf(g0), {});
  });

  it('keeps text-only elements with attributes as plain text', () => {
    const doc = parseXmlBody(`<CreateBucketConfiguration xmlns:xsi="${XSI}"><LocationConstraint xsi:nil="false">eu-west-1</LocationConstraint></CreateBucketConfiguration>`, 'CreateBucketConfiguration');
    assert.deepEqual(doc, { LocationConstraint: 'eu-west-1' });
  });

  it('keeps a text-only root as { #text }', () => {
    assert.deepEqual(parseXmlBody('<Status a="b">Enabled</Status>', 'Status'), { [TEXT]: 'Enabled' });
    assert.deepEqual(parseXmlBody('<Status a="b"/>', 'Status'), {});
  });
});

describe('XmlReader with attributes', () => {
  const parse = (xml: string, root = 'AccessControlPolicy') => parseXmlBody(xml, root, 'MalformedACLError', { attributes: true });

  it('puts attributes under @attrs by local name, without namespace declarations', () => {
    const doc = parse(GRANTEE_DOC);
    const grants = children(children(doc, 'AccessControlList')[0], 'Grant');
    const g0 = children(grants[0], 'Grantee')[0]!;
    const g1 = children(grants[1], 'Grantee')[0]!;
    assert.deepEqual(attributesOf(g0), { type: 'CanonicalUser' });
    assert.deepEqual(attributesOf(g1), { type: 'Group' });
    assert.equal(childText(g0, 'ID'), '852b113e7a2f25102679df27bb0ae12b3f85be6f290b936c4393484be31bebcc');
    assert.equal(childText(g1, 'URI'), 'http://acs.amazonaws.com/groups/global/AllUsers');
    // The root's xmlns is a declaration, not an attribute: the root has no @attrs.
    assert.equal(ATTRS in doc, false);
  });

  it('leaves elements without attributes unchanged', () => {
    const doc = parse(GRANTEE_DOC);
    assert.deepEqual(children(doc, 'Owner')[0], { ID: '852b113e7a2f25102679df27bb0ae12b3f85be6f290b936c4393484be31bebcc' });
  });

  const cases: { name: string; xml: string; want: ParsedXml }[] = [
    { name: 'any prefix, or none', xml: '<R><G p:type="A" q="1"/></R>', want: { G: { [ATTRS]: { type: 'A', q: '1' } } } },
    { name: 'text beside attributes', xml: '<R><G a="1">text</G></R>', want: { G: { [ATTRS]: { a: '1' }, [TEXT]: 'text' } } },
    { name: 'entities decoded in values', xml: '<R><G a="&lt;&amp;&#34;"/></R>', want: { G: { [ATTRS]: { a: '<&"' } } } },
    { name: 'repeated elements', xml: '<R><G a="1"/><G a="2"/></R>', want: { G: [{ [ATTRS]: { a: '1' } }, { [ATTRS]: { a: '2' } }] } },
    { name: 'only namespace declarations', xml: '<R><G xmlns="urn:x" xmlns:p="urn:p">t</G></R>', want: { G: 't' } },
    { name: 'root attributes', xml: '<R xmlns="urn:x" v="2"><G>t</G></R>', want: { [ATTRS]: { v: '2' }, G: 't' } },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(parse(c.xml, 'R'), c.want));
  }

  it('reads the text of an element with attributes through childText', () => {
    const doc = parse('<R><ID kind="x">abc</ID><E kind="y"/></R>', 'R');
    assert.equal(childText(doc, 'ID'), 'abc');
    assert.equal(childText(doc, 'E'), '');
    assert.deepEqual(attributesOf(children(doc, 'ID')[0]), { kind: 'x' });
  });

  it('refuses two attributes with one local name, with the reader\'s error code', () => {
    assert.equal(code(() => parse('<R><G a:type="A" b:type="B"/></R>', 'R')), 'MalformedACLError');
    assert.equal(code(() => parseXmlBody('<R><G a:type="A" b:type="B"/></R>', 'R', 'MalformedXML', { attributes: true })), 'MalformedXML');
  });

  it('still refuses what is not well formed', () => {
    assert.equal(code(() => parse('<R><G a="1></G></R>', 'R')), 'MalformedACLError');
    assert.equal(code(() => parse('<R><G a="1" a="2"/></R>', 'R')), 'MalformedACLError');
    assert.equal(code(() => parse('<Other/>', 'R')), 'MalformedACLError');
  });

  it('reads attributes split across chunks', () => {
    const r = new XmlReader('AccessControlPolicy', { maxBytes: 1 << 20, attributes: true });
    const bytes = Buffer.from(GRANTEE_DOC);
    for (let i = 0; i < bytes.length; i += 7) r.write(bytes.subarray(i, i + 7));
    const doc = r.end();
    const grants = children(children(doc, 'AccessControlList')[0], 'Grant');
    assert.deepEqual(grants.map((g) => attributesOf(children(g, 'Grantee')[0]).type), ['CanonicalUser', 'Group']);
  });

  it('reads back what renderXml writes with ATTRS', () => {
    const xml = renderXml('R', { G: { [ATTRS]: { 'xmlns:xsi': XSI, 'xsi:type': 'Group' }, URI: 'u' } });
    assert.deepEqual(parse(xml, 'R'), { G: { [ATTRS]: { type: 'Group' }, URI: 'u' } });
  });
});

describe('attributesOf', () => {
  it('is empty for text, undefined and elements without attributes', () => {
    assert.deepEqual(attributesOf(undefined), {});
    assert.deepEqual(attributesOf('text'), {});
    assert.deepEqual(attributesOf({ A: 'x' }), {});
  });
});
