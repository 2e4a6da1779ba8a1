// Request XML: strict parsing, no DOCTYPE or entities.
import t from 'tap';
import { S3Error } from '../errors';
import { child, childrenNamed, parseXml, type XmlElement } from './request-xml';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof S3Error ? e.code : `not an S3Error: ${String(e)}`;
  }
}

t.test('a DeleteObjects document', async (t) => {
  const root = parseXml(
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\n' +
      '  <Object><Key>a&amp;b &lt;c&gt; &#x1F600;&#65;</Key></Object>\n' +
      '  <Object><Key><![CDATA[x<y>]]></Key><VersionId>null</VersionId></Object>\n' +
      '  <Quiet>true</Quiet>\n' +
      '</Delete>',
  );
  t.equal(root.name, 'Delete');
  const objects = childrenNamed(root, 'Object');
  t.equal(objects.length, 2);
  t.equal(child(objects[0]!, 'Key')!.text, 'a&b <c> \u{1f600}A');
  t.equal(child(objects[1]!, 'Key')!.text, 'x<y>');
  t.equal(child(objects[1]!, 'VersionId')!.text, 'null');
  t.equal(child(root, 'Quiet')!.text, 'true');
  t.equal(child(root, 'Missing'), undefined);
  t.same(childrenNamed(root, 'Missing'), []);
});

t.test('text is kept as sent, whitespace included', async (t) => {
  const root = parseXml('<Tagging><TagSet><Tag><Key> k </Key><Value>\n</Value></Tag></TagSet></Tagging>');
  const tag = child(child(root, 'TagSet')!, 'Tag')!;
  t.equal(child(tag, 'Key')!.text, ' k ');
  t.equal(child(tag, 'Value')!.text, '\n');
});

t.test('namespace prefixes are stripped from names', async (t) => {
  const root = parseXml(
    '<s3:CompleteMultipartUpload xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<s3:Part><s3:PartNumber>1</s3:PartNumber><ETag>"e"</ETag></s3:Part></s3:CompleteMultipartUpload>',
  );
  const expected: XmlElement = {
    name: 'CompleteMultipartUpload',
    text: '',
    children: [
      {
        name: 'Part',
        text: '',
        children: [
          { name: 'PartNumber', text: '1', children: [] },
          { name: 'ETag', text: '"e"', children: [] },
        ],
      },
    ],
  };
  t.same(root, expected);
});

t.test('DOCTYPE and entity declarations are MalformedXML', async (t) => {
  const cases = [
    '<!DOCTYPE Delete><Delete/>',
    '<!DOCTYPE Delete [<!ENTITY x "y">]><Delete><Object><Key>&x;</Key></Object></Delete>',
    '<!DOCTYPE Delete SYSTEM "file:///etc/passwd"><Delete/>',
    '<!ENTITY x "y"><Delete/>',
    '<Delete/><!ENTITY x "y">',
    '<Delete>&x;</Delete>',
    '<Delete>&lol9;</Delete>',
  ];
  for (const xml of cases)
    t.equal(
      codeOf(() => parseXml(xml)),
      'MalformedXML',
      xml,
    );
});

t.test('truncated, garbage and multi-root documents are MalformedXML', async (t) => {
  const cases = [
    '',
    '   ',
    'garbage',
    '<Delete>',
    '<Delete><Object></Delete>',
    '<Delete><Object>',
    '<Delete></Object></Delete>',
    '<Delete/><Delete/>',
    '<a></a><b></b>',
    '<Delete/>trailing text',
    'leading text<Delete/>',
    '<![CDATA[x]]><Delete/>',
    '<Delete attr=unquoted/>',
    '<1Delete/>',
    '<Delete>&#0;</Delete>',
    '<Delete/>\u0000',
    '<Delete><Object><Key>a\u0001b</Key></Object></Delete>',
    '<Delete><Object><Key>a\u001fb</Key></Object></Delete>',
    '<Delete><Object><Key>\uffff</Key></Object></Delete>',
    '<Delete>&#x1;</Delete>',
    '{"Delete": []}',
  ];
  for (const xml of cases)
    t.equal(
      codeOf(() => parseXml(xml)),
      'MalformedXML',
      JSON.stringify(xml),
    );
});

t.test('comments, processing instructions, a BOM and surrounding blanks are fine', async (t) => {
  t.equal(parseXml('\ufeff<?xml version="1.0"?>\n<!-- c --><Delete/><!-- after -->\n').name, 'Delete');
  t.equal(parseXml('  <Delete>  </Delete>  ').text, '  ');
  t.equal(parseXml('<Key>tab\there\r\nline&#xd;</Key>').text, 'tab\there\nline\r', 'tab, CR and LF are legal; a literal CRLF is one LF');
});
