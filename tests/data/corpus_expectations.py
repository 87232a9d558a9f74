"""What mailbot must make of each message of the shared corpus (../shared/corpus), judged by reading every file.

The corpus is real mail written by programs no one here wrote (README.md there). Each table maps a path relative to
the corpus root to what `parse_message` + `classify` must produce; tests/unit/test_corpus.py checks them all, and
checks that every message in the corpus has an entry here, so a file added to the corpus must be judged too.

Classification settings used: mailbot's domain alcaldia.gov.co, Message-ID domain mailbot.alcaldia.gov.co, address
planeacion@alcaldia.gov.co (no corpus message comes from them, so none is a loop).
"""

from __future__ import annotations

from typing import Final

#: The kind of every message. Newsletters and spam without any automatic marker are "reply" on purpose: the rules
#: of MAIL.md section 2 do not fire, and matching (no signal) keeps mailbot from answering them.
KINDS: Final[dict[str, str]] = {
    # bounces: delivery status notifications (RFC 3464), failed or delayed
    "mail-gem/mime_emails/raw_email_with_mimepart_without_content_type.eml": "bounce",  # delayed: no id marked
    "mail-gem/multipart_report_emails/multi_address_bounce1.eml": "bounce",  # Postfix, five failed recipients
    "mail-gem/multipart_report_emails/multi_address_bounce2.eml": "bounce",
    "mail-gem/multipart_report_emails/multipart_report_multiple_status.eml": "bounce",  # two status parts
    "mail-gem/multipart_report_emails/report_422.eml": "bounce",  # delayed (mailbox full): no id marked
    "mail-gem/multipart_report_emails/report_530.eml": "bounce",  # Sendmail, text/rfc822-headers
    "mimekit/messages/bounce.txt": "bounce",  # per-recipient block base64-encoded by a gateway
    "mimekit/messages/delivery-status-multiple-blank-lines.txt": "bounce",  # no Action: Status 5.5.0 decides
    "mimekit/messages/delivery-status-no-blank-line.txt": "bounce",
    "mimekit/messages/delivery-status.anonymized.eml": "bounce",  # report-type and Action unreadable: assumed failed
    "mimekit/messages/delivery-status.txt": "bounce",
    "mimekit/messages/delivery-status2.txt": "bounce",  # Exim; the returned message has no Message-ID
    # automatic: never answered
    "mail-gem/error_emails/bad_date_header.eml": "automatic",  # Precedence: junk
    "mail-gem/error_emails/empty_in_reply_to.eml": "automatic",  # List-Id
    "mail-gem/error_emails/encoding_madness.eml": "automatic",  # From no-reply@
    "mail-gem/mime_emails/raw_email_encoded_stack_level_too_deep.eml": "automatic",  # From gmail-noreply@
    "mail-gem/plain_emails/raw_email_trailing_dot.eml": "automatic",  # From noreply@
    "mimekit/messages/disposition-notification.anonymized.eml": "automatic",  # read receipt, report-type anonymised
    "mimekit/messages/disposition-notification.txt": "automatic",  # read receipt (RFC 8098)
    "mimekit/messages/feedback-report.txt": "automatic",  # abuse report (ARF); the file starts with a UTF-8 BOM
    # replies: no automatic marker
    "mail-gem/attachment_emails/attachment_content_disposition.eml": "reply",
    "mail-gem/attachment_emails/attachment_content_location.eml": "reply",
    "mail-gem/attachment_emails/attachment_message_rfc822.eml": "reply",
    "mail-gem/attachment_emails/attachment_message_rfc822_inline_image.eml": "reply",
    "mail-gem/attachment_emails/attachment_nonascii_filename.eml": "reply",
    "mail-gem/attachment_emails/attachment_only_email.eml": "reply",
    "mail-gem/attachment_emails/attachment_pdf.eml": "reply",
    "mail-gem/attachment_emails/attachment_pdf_lf.eml": "reply",
    "mail-gem/attachment_emails/attachment_pdf_non_ascii.eml": "reply",
    "mail-gem/attachment_emails/attachment_pdf_non_ascii_lf.eml": "reply",
    "mail-gem/attachment_emails/attachment_with_base64_encoded_name.eml": "reply",
    "mail-gem/attachment_emails/attachment_with_encoded_name.eml": "reply",
    "mail-gem/attachment_emails/attachment_with_quoted_filename.eml": "reply",
    "mail-gem/attachment_emails/attachment_with_unquoted_name.eml": "reply",
    "mail-gem/error_emails/bad_date_header2.eml": "reply",
    "mail-gem/error_emails/bad_encoded_subject.eml": "reply",
    "mail-gem/error_emails/bad_subject.eml": "reply",
    "mail-gem/error_emails/cant_parse_from.eml": "reply",
    "mail-gem/error_emails/content_transfer_encoding_7-bit.eml": "reply",
    "mail-gem/error_emails/content_transfer_encoding_empty.eml": "reply",
    "mail-gem/error_emails/content_transfer_encoding_plain.eml": "reply",
    "mail-gem/error_emails/content_transfer_encoding_qp_with_space.eml": "reply",
    "mail-gem/error_emails/content_transfer_encoding_spam.eml": "reply",
    "mail-gem/error_emails/content_transfer_encoding_text-html.eml": "reply",
    "mail-gem/error_emails/content_transfer_encoding_with_8bits.eml": "reply",
    "mail-gem/error_emails/content_transfer_encoding_with_semi_colon.eml": "reply",
    "mail-gem/error_emails/content_transfer_encoding_x_uuencode.eml": "reply",
    "mail-gem/error_emails/empty_group_lists.eml": "reply",
    "mail-gem/error_emails/header_fields_with_empty_values.eml": "reply",
    "mail-gem/error_emails/invalid_subject_characters.eml": "reply",
    "mail-gem/error_emails/missing_body.eml": "reply",
    "mail-gem/error_emails/missing_content_disposition.eml": "reply",
    "mail-gem/error_emails/multiple_content_types.eml": "reply",
    "mail-gem/error_emails/multiple_invalid_content_dispositions.eml": "reply",
    "mail-gem/error_emails/multiple_references_with_one_invalid.eml": "reply",
    "mail-gem/error_emails/must_supply_encoding.eml": "reply",
    "mail-gem/error_emails/new_line_in_to_header.eml": "reply",
    "mail-gem/error_emails/trademark_character_in_subject.eml": "reply",
    "mail-gem/error_emails/weird_to_header.eml": "reply",
    "mail-gem/mime_emails/email_with_similar_boundaries.eml": "reply",
    "mail-gem/mime_emails/raw_email11.eml": "reply",
    "mail-gem/mime_emails/raw_email12.eml": "reply",
    "mail-gem/mime_emails/raw_email2.eml": "reply",
    "mail-gem/mime_emails/raw_email4.eml": "reply",
    "mail-gem/mime_emails/raw_email7.eml": "reply",
    "mail-gem/mime_emails/raw_email_with_binary_encoded.eml": "reply",
    "mail-gem/mime_emails/raw_email_with_illegal_boundary.eml": "reply",
    "mail-gem/mime_emails/raw_email_with_multipart_mixed_quoted_boundary.eml": "reply",
    "mail-gem/mime_emails/raw_email_with_nested_attachment.eml": "reply",
    "mail-gem/mime_emails/raw_email_with_quoted_illegal_boundary.eml": "reply",
    "mail-gem/mime_emails/sig_only_email.eml": "reply",
    "mail-gem/mime_emails/two_from_in_message.eml": "reply",
    "mail-gem/multi_charset/japanese.eml": "reply",
    "mail-gem/multi_charset/japanese_attachment.eml": "reply",
    "mail-gem/multi_charset/japanese_attachment_long_name.eml": "reply",
    "mail-gem/multi_charset/japanese_iso_2022.eml": "reply",
    "mail-gem/multi_charset/japanese_shift_jis.eml": "reply",
    "mail-gem/multi_charset/ks_c_5601-1987.eml": "reply",
    "mail-gem/plain_emails/basic_email.eml": "reply",
    "mail-gem/plain_emails/basic_email_lf.eml": "reply",
    "mail-gem/plain_emails/mix_caps_content_type.eml": "reply",
    "mail-gem/plain_emails/raw_email.eml": "reply",
    "mail-gem/plain_emails/raw_email10.eml": "reply",
    "mail-gem/plain_emails/raw_email5.eml": "reply",
    "mail-gem/plain_emails/raw_email6.eml": "reply",
    "mail-gem/plain_emails/raw_email8.eml": "reply",
    "mail-gem/plain_emails/raw_email_bad_time.eml": "reply",
    "mail-gem/plain_emails/raw_email_double_at_in_header.eml": "reply",
    "mail-gem/plain_emails/raw_email_incorrect_header.eml": "reply",
    "mail-gem/plain_emails/raw_email_multiple_from.eml": "reply",
    "mail-gem/plain_emails/raw_email_quoted_with_0d0a.eml": "reply",
    "mail-gem/plain_emails/raw_email_reply.eml": "reply",
    "mail-gem/plain_emails/raw_email_simple.eml": "reply",
    "mail-gem/plain_emails/raw_email_string_in_date_field.eml": "reply",
    "mail-gem/plain_emails/raw_email_with_at_display_name.eml": "reply",
    "mail-gem/plain_emails/raw_email_with_bad_date.eml": "reply",
    "mail-gem/plain_emails/raw_email_with_partially_quoted_subject.eml": "reply",
    "mail-gem/rfc2822/example01.eml": "reply",
    "mail-gem/rfc2822/example02.eml": "reply",
    "mail-gem/rfc2822/example03.eml": "reply",
    "mail-gem/rfc2822/example04.eml": "reply",
    "mail-gem/rfc2822/example05.eml": "reply",
    "mail-gem/rfc2822/example06.eml": "reply",
    "mail-gem/rfc2822/example07.eml": "reply",
    "mail-gem/rfc2822/example08.eml": "reply",
    "mail-gem/rfc2822/example09.eml": "reply",
    "mail-gem/rfc2822/example10.eml": "reply",
    "mail-gem/rfc2822/example11.eml": "reply",
    "mail-gem/rfc2822/example12.eml": "reply",
    "mail-gem/rfc2822/example13.eml": "reply",
    "mail-gem/rfc2822/example14.eml": "reply",
    "mail-gem/rfc6532/utf8_headers.eml": "reply",
    "mail-gem/sample_output_multipart": "reply",
    "mimekit/messages/body.1.txt": "reply",
    "mimekit/messages/body.2.txt": "reply",
    "mimekit/messages/body.3.txt": "reply",
    "mimekit/messages/body.4.txt": "reply",
    "mimekit/messages/body.5.txt": "reply",
    "mimekit/messages/body.6.txt": "reply",
    "mimekit/messages/body.7.txt": "reply",
    "mimekit/messages/body.8.txt": "reply",
    "mimekit/messages/body.9.txt": "reply",
    "mimekit/messages/empty-multipart.txt": "reply",
    "mimekit/messages/epilogue.txt": "reply",
    "mimekit/messages/issue1130.txt": "reply",
    "mimekit/messages/issue358.txt": "reply",
    "mimekit/messages/japanese.txt": "reply",
    "mimekit/messages/missing-subtype.txt": "reply",
    "mimekit/messages/multipart-digest.txt": "reply",
    "mimekit/messages/multipart-related-mhtml.txt": "reply",
    "mimekit/messages/rfc2060.txt": "reply",
    "mimekit/messages/simple-embedded-message.anonymized.eml": "reply",
    "mimekit/messages/simple-embedded-message.eml": "reply",
    "mimekit/messages/simple-multipart.anonymized.eml": "reply",
    "mimekit/messages/simple-multipart.eml": "reply",
    "mimekit/messages/stack-overflow.txt": "reply",
    "mimekit/partial/message-partial.0.eml": "reply",
    "mimekit/partial/message-partial.1.eml": "reply",
    "mimekit/partial/message-partial.2.eml": "reply",
    "mimekit/partial/message-partial.eml": "reply",
    "mimekit/partial/rfc2046.0.eml": "reply",
    "mimekit/partial/rfc2046.1.eml": "reply",
    "mimekit/partial/rfc2046.eml": "reply",
}

#: For each bounce, the Message-IDs it returns (the ones mailbot would mark as failed deliveries).
BOUNCED_IDS: Final[dict[str, tuple[str, ...]]] = {
    "mail-gem/mime_emails/raw_email_with_mimepart_without_content_type.eml": (),  # delayed
    "mail-gem/multipart_report_emails/multi_address_bounce1.eml": (
        "118707422.15521266992174819.JavaMail.root@lvmail01",
    ),
    "mail-gem/multipart_report_emails/multi_address_bounce2.eml": (
        "118707422.15521266992174819.JavaMail.root@lvmail01",
    ),
    "mail-gem/multipart_report_emails/multipart_report_multiple_status.eml": (
        "4c2a146147ac8_61ff157c4ec1652df@s.h.c.mail",
    ),
    "mail-gem/multipart_report_emails/report_422.eml": (),  # delayed
    "mail-gem/multipart_report_emails/report_530.eml": ("200712232303.lBNN3jDq002941@mail12.rrrr.com.au",),
    "mimekit/messages/bounce.txt": ("44565655.JitbitHelpdesk.13439.691a0afc-a0a0-457c-8208-f20b7c4a4cb1@jitbit.com",),
    "mimekit/messages/delivery-status-multiple-blank-lines.txt": (),  # nothing returned
    "mimekit/messages/delivery-status-no-blank-line.txt": ("31FC7EB4.41C6@netscape.com",),
    "mimekit/messages/delivery-status.anonymized.eml": ("xxxxxxxx.xxxx@xxxxxxxx.xxx",),
    "mimekit/messages/delivery-status.txt": ("31FC7EB4.41C6@netscape.com",),
    "mimekit/messages/delivery-status2.txt": (),  # the returned message has no Message-ID
}

#: The files found in each message that carries any: (display name, origin, kind sniffed from the bytes).
ATTACHMENTS: Final[dict[str, tuple[tuple[str | None, str, str], ...]]] = {
    "mail-gem/attachment_emails/attachment_content_disposition.eml": (("api.rb", "direct", "csv_text"),),
    "mail-gem/attachment_emails/attachment_content_location.eml": (("Photo25.jpg", "direct", "unknown"),),
    "mail-gem/attachment_emails/attachment_message_rfc822.eml": (("broken.pdf", "attached_message", "pdf"),),
    "mail-gem/attachment_emails/attachment_message_rfc822_inline_image.eml": (("img.png", "direct", "unknown"),),
    "mail-gem/attachment_emails/attachment_nonascii_filename.eml": (("ciële.txt", "direct", "unknown"),),
    "mail-gem/attachment_emails/attachment_only_email.eml": (("blah.gz", "direct", "unknown"),),
    "mail-gem/attachment_emails/attachment_pdf.eml": (("broken.pdf", "direct", "pdf"),),
    "mail-gem/attachment_emails/attachment_pdf_lf.eml": (("broken.pdf", "direct", "pdf"),),
    "mail-gem/attachment_emails/attachment_pdf_non_ascii.eml": (("broken.pdf", "direct", "pdf"),),
    "mail-gem/attachment_emails/attachment_pdf_non_ascii_lf.eml": (("broken.pdf", "direct", "pdf"),),
    "mail-gem/attachment_emails/attachment_with_base64_encoded_name.eml": (
        ("This is a test.pdf", "direct", "unknown"),
    ),
    "mail-gem/attachment_emails/attachment_with_encoded_name.eml": (
        ("01 Quien Te DijŠat. Pitbull.mp3", "direct", "unknown"),
    ),
    "mail-gem/attachment_emails/attachment_with_quoted_filename.eml": (
        ("Eelanalüüsi päring.jpg", "direct", "unknown"),
    ),
    "mail-gem/attachment_emails/attachment_with_unquoted_name.eml": (("This is a test.txt", "direct", "unknown"),),
    "mail-gem/error_emails/content_transfer_encoding_x_uuencode.eml": (
        ("PGP_Cmts_on_12-14-01_Pkg.doc", "direct", "empty"),
    ),
    "mail-gem/error_emails/missing_content_disposition.eml": (("somefile.jpg", "direct", "unknown"),),
    "mail-gem/mime_emails/email_with_similar_boundaries.eml": (("LOGO.png", "direct", "unknown"),),
    "mail-gem/mime_emails/raw_email12.eml": (("Photo25.jpg", "direct", "unknown"),),
    "mail-gem/mime_emails/raw_email2.eml": (("smime.p7s", "direct", "unknown"),),
    "mail-gem/mime_emails/raw_email4.eml": (("text.txt", "direct", "unknown"),),
    "mail-gem/mime_emails/raw_email7.eml": (
        ("test.rb", "direct", "csv_text"),
        ("test.pdf", "direct", "unknown"),
        ("smime.p7s", "direct", "unknown"),
    ),
    "mail-gem/mime_emails/raw_email_with_binary_encoded.eml": (("2013-08-13_19-08-28-1.jpg", "direct", "unknown"),),
    "mail-gem/mime_emails/raw_email_with_multipart_mixed_quoted_boundary.eml": (("broken.pdf", "direct", "pdf"),),
    "mail-gem/mime_emails/raw_email_with_nested_attachment.eml": (
        ("truncated.png", "direct", "unknown"),
        ("smime.p7s", "direct", "unknown"),
    ),
    "mail-gem/mime_emails/sig_only_email.eml": (("signature.asc", "direct", "unknown"),),
    "mail-gem/multi_charset/japanese_attachment.eml": (("てすと.txt", "direct", "unknown"),),
    "mail-gem/multi_charset/japanese_attachment_long_name.eml": (
        ("かきくけこかきくけこかきくけこかきくけこかきくけこ.txt", "direct", "unknown"),
    ),
    "mail-gem/plain_emails/raw_email8.eml": (("01 Quien Te DijŠat. Pitbull.mp3", "direct", "unknown"),),
    "mimekit/messages/body.4.txt": (
        ("empty.gif", "direct", "empty"),
        ("empty.jpg", "direct", "empty"),
    ),
    "mimekit/messages/body.5.txt": (
        ("empty.gif", "direct", "empty"),
        ("empty.jpg", "direct", "empty"),
    ),
    "mimekit/messages/body.6.txt": (
        ("empty.gif", "direct", "empty"),
        ("empty.jpg", "direct", "empty"),
        ("document.txt", "direct", "unknown"),
    ),
    "mimekit/messages/body.7.txt": (
        ("empty.gif", "direct", "empty"),
        ("empty.jpg", "direct", "empty"),
        ("document.txt", "direct", "unknown"),
    ),
    "mimekit/messages/body.8.txt": (("attachment.dat", "direct", "empty"),),
    "mimekit/messages/body.9.txt": (("attachment.dat", "direct", "empty"),),
    "mimekit/messages/epilogue.txt": ((None, "direct", "empty"),),
    "mimekit/messages/missing-subtype.txt": (("document.xml.gz", "direct", "unknown"),),
    "mimekit/messages/rfc2060.txt": (
        (None, "direct", "unknown"),
        (None, "attached_message", "unknown"),
    ),
    "mimekit/messages/simple-multipart.anonymized.eml": (("xxxxxxxxxxxxxx", "direct", "unknown"),),
    "mimekit/messages/simple-multipart.eml": (("attachment.txt", "direct", "unknown"),),
    "mimekit/partial/message-partial.eml": (("earrings.jpg", "direct", "unknown"),),
}

#: The file names inside each raw TNEF blob (mimekit/tnef), wrapped as winmail.dat by the test. tnefparse 1.4 agrees
#: on every name; on MAPI_ATTACH_DATA_OBJ, MAPI_OBJECT and winmail it returns a MAPI fragment where this reader returns
#: the whole OLE file (a multiple of 512 bytes starting D0 CF 11 E0).
TNEF_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "mimekit/tnef/MAPI_ATTACH_DATA_OBJ.tnef": ("VIA_Nytt_1402.doc", "VIA_Nytt_1402.pdf", "VIA_Nytt_14021.htm"),
    "mimekit/tnef/MAPI_OBJECT.tnef": ("Untitled_Attachment",),
    "mimekit/tnef/attachments.tnef": ("zappa_av1.jpg", "bookmark.htm"),
    "mimekit/tnef/body.tnef": (),  # a body only
    "mimekit/tnef/christmas.tnef": (  # the second one comes from an embedded (forwarded) Outlook message
        "kitten-playing-with-a-christmas-tree.jpg",
        "kitten-playing-with-a-christmas-tree.jpg",
    ),
    "mimekit/tnef/data-before-name.tnef": ("AUTOEXEC.BAT", "CONFIG.SYS", "boot.ini"),
    "mimekit/tnef/garbage-at-end.tnef": (),
    "mimekit/tnef/long-filename.tnef": ("allproductsmar2000.dat",),
    "mimekit/tnef/missing-filenames.tnef": (
        "generpts.src",
        "TechlibDEC99.doc",
        "TechlibDEC99-JAN00.doc",
        "TechlibNOV99.doc",
    ),
    "mimekit/tnef/multi-name-property.tnef": (),
    "mimekit/tnef/multi-value-attribute.tnef": ("208225__5_seconds__Voice_Mail.mp3",),
    "mimekit/tnef/one-file.tnef": ("AUTHORS",),
    "mimekit/tnef/panic.tnef": ("image001.jpg", "image002.jpg", "image003.png"),
    "mimekit/tnef/rtf.tnef": (),
    "mimekit/tnef/triples.tnef": (),
    "mimekit/tnef/two-files.tnef": ("AUTHORS", "README"),
    "mimekit/tnef/unicode-mapi-attr-name.tnef": ("spaconsole2.cfg", "image001.png", "image002.png", "image003.png"),
    "mimekit/tnef/unicode-mapi-attr.tnef": ("example.dat",),
    "mimekit/tnef/winmail.tnef": ("Untitled Attachment", "Untitled Attachment"),
}
