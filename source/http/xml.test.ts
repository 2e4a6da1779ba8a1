// Response XML: escaping and document shape.
import t from 'tap';
import { escapeXml, S3_NS, xmlDocument } from './xml';

t.test('the five markup characters', async (t) => {
  t.equal(escapeXml(`a&b<c>d"e'f`), 'a&amp;b&lt;c&gt;d&quot;e&apos;f');
  t.equal(escapeXml('&amp;'), '&amp;amp;', 'an entity in data is data');
  t.equal(escapeXml(']]>'), ']]&gt;');
  t.equal(escapeXml('plain/key-1_2.txt'), 'plain/key-1_2.txt');
  t.equal(escapeXml(''), '');
});

t.test('characters XML cannot carry literally become numeric references', async (t) => {
  t.equal(escapeXml('a\u0001b'), 'a&#x1;b');
  t.equal(escapeXml('\u0000'), '&#x0;');
  t.equal(escapeXml('\u0008\u000b\u000c\u000e\u001f'), '&#x8;&#xb;&#xc;&#xe;&#x1f;');
  t.equal(escapeXml('\ufffe\uffff'), '&#xfffe;&#xffff;');
  // A literal CR would reach the client as LF (XML normalizes line ends): S3 sends &#xd;.
  t.equal(escapeXml('a\rb'), 'a&#xd;b');
  t.equal(escapeXml('a\r\nb'), 'a&#xd;\nb');
  t.equal(escapeXml('tab\there\nnewline'), 'tab\there\nnewline', 'tab and LF are fine in element text');
});

t.test('other Unicode passes through', async (t) => {
  t.equal(escapeXml('caf\u00e9 \u4e2d \u{1f600} \ue000 \ufffd \u007f'), 'caf\u00e9 \u4e2d \u{1f600} \ue000 \ufffd \u007f');
});

t.test('documents', async (t) => {
  t.equal(
    xmlDocument('ListAllMyBucketsResult', [
      [
        'Owner',
        [
          ['ID', 'o&u'],
          ['DisplayName', 'o&u'],
        ],
      ],
      [
        'Buckets',
        [
          [
            'Bucket',
            [
              ['Name', 'b1'],
              ['CreationDate', '2024-01-01T00:00:00.000Z'],
            ],
          ],
        ],
      ],
      ['Skipped', undefined],
      ['Empty', null],
      ['Count', 3],
      ['IsTruncated', false],
      ['Text', ''],
    ]),
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<ListAllMyBucketsResult xmlns="${S3_NS}">` +
      '<Owner><ID>o&amp;u</ID><DisplayName>o&amp;u</DisplayName></Owner>' +
      '<Buckets><Bucket><Name>b1</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket></Buckets>' +
      '<Empty/><Count>3</Count><IsTruncated>false</IsTruncated><Text></Text>' +
      '</ListAllMyBucketsResult>',
  );
  t.equal(
    xmlDocument('Error', [['Code', 'NoSuchKey']], null),
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code></Error>',
  );
  t.equal(
    xmlDocument('Tagging', [['TagSet', []]]),
    `<?xml version="1.0" encoding="UTF-8"?>\n<Tagging xmlns="${S3_NS}"><TagSet></TagSet></Tagging>`,
  );
});

t.test('attributes are written on the opening tag, escaped', async (t) => {
  const attributes = { 'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance', 'xsi:type': 'Gr"oup' };
  t.equal(
    xmlDocument('P', [['Grantee', [['URI', 'u']], attributes]], null),
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<P><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Gr&quot;oup"><URI>u</URI></Grantee></P>',
  );
  t.equal(xmlDocument('P', [['E', null, { a: '1' }]], null), '<?xml version="1.0" encoding="UTF-8"?>\n<P><E a="1"/></P>');
});
