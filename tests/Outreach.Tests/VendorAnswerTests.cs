using System.Net;
using System.Net.Sockets;
using MailKit.Net.Smtp;

namespace Collections.Outreach.Tests;

/// <summary>
/// What a transport's failure says of its vendor, which pauses a channel whose vendor keeps failing: down when it did
/// not answer or answered that it is busy or broken; up when it answered anything else (to this message, or to our
/// credentials); nothing when the error was ours, before the vendor was reached.
/// </summary>
public sealed class VendorAnswerTests
{
    public static TheoryData<string, Exception, ReceiverAnswer?> Failures => new()
    {
        { "SMTP 421: too many connections", new SmtpCommandException(SmtpErrorCode.UnexpectedStatusCode, SmtpStatusCode.ServiceNotAvailable, "busy"), ReceiverAnswer.Unavailable },
        { "SMTP 421 to a command", new SmtpCommandException(SmtpErrorCode.MessageNotAccepted, SmtpStatusCode.ServiceNotAvailable, "closing"), ReceiverAnswer.Unavailable },
        { "SMTP 452: relay storage full", new SmtpCommandException(SmtpErrorCode.MessageNotAccepted, SmtpStatusCode.InsufficientStorage, "full"), ReceiverAnswer.Unavailable },
        { "SMTP 451: local error", new SmtpCommandException(SmtpErrorCode.MessageNotAccepted, SmtpStatusCode.ErrorInProcessing, "error"), ReceiverAnswer.Unavailable },
        { "SMTP 454: TLS unavailable", new SmtpCommandException(SmtpErrorCode.UnexpectedStatusCode, (SmtpStatusCode)454, "no tls"), ReceiverAnswer.Unavailable },
        { "SMTP 450: greylisted recipient", new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, SmtpStatusCode.MailboxBusy, "try later"), ReceiverAnswer.Refused },
        { "SMTP 550: unknown recipient", new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, SmtpStatusCode.MailboxUnavailable, "no such user"), ReceiverAnswer.Refused },
        { "SMTP 451 to a recipient: greylisted", new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, SmtpStatusCode.ErrorInProcessing, "greylisted"), ReceiverAnswer.Refused },
        { "SMTP 452 to a recipient: mailbox full", new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, SmtpStatusCode.InsufficientStorage, "full"), ReceiverAnswer.Refused },
        { "SMTP 454 to a recipient: relaying denied", new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, SmtpStatusCode.TemporaryAuthenticationFailure, "relay denied"), ReceiverAnswer.Refused },
        { "SMTP 421 to a recipient: closing", new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, SmtpStatusCode.ServiceNotAvailable, "closing"), ReceiverAnswer.Unavailable },
        { "SMTP 554 to the message", new SmtpCommandException(SmtpErrorCode.UnexpectedStatusCode, SmtpStatusCode.TransactionFailed, "rejected"), ReceiverAnswer.Refused },
        { "SMTP login refused", new MailKit.Security.AuthenticationException("bad password"), ReceiverAnswer.Refused },
        { "SMTP login answered 535", new MailKit.Security.AuthenticationException("bad password",
            new SmtpCommandException(SmtpErrorCode.UnexpectedStatusCode, SmtpStatusCode.AuthenticationInvalidCredentials, "no")), ReceiverAnswer.Refused },
        { "SMTP login answered 454: try later", new MailKit.Security.AuthenticationException("try later",
            new SmtpCommandException(SmtpErrorCode.UnexpectedStatusCode, SmtpStatusCode.TemporaryAuthenticationFailure, "later")), ReceiverAnswer.Unavailable },
        { "a dropped SMTP connection", new SmtpProtocolException("disconnected"), ReceiverAnswer.Unavailable },
        { "HTTP 503", new HttpRequestException("down", null, HttpStatusCode.ServiceUnavailable), ReceiverAnswer.Unavailable },
        { "HTTP 429", new HttpRequestException("slow down", null, HttpStatusCode.TooManyRequests), ReceiverAnswer.Unavailable },
        { "HTTP 400", new HttpRequestException("bad", null, HttpStatusCode.BadRequest), ReceiverAnswer.Refused },
        { "a refused connection", new HttpRequestException("refused", new SocketException((int)SocketError.ConnectionRefused)), ReceiverAnswer.Unavailable },
        { "a socket error", new SocketException((int)SocketError.HostUnreachable), ReceiverAnswer.Unavailable },
        { "the delivery's deadline", new OperationCanceledException(), ReceiverAnswer.Unavailable },
        { "an error of ours (the database, a document)", new InvalidOperationException("the statement could not be rendered"), null },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void A_failure_says_whether_the_vendor_is_down_up_or_nothing(string what, Exception failure, ReceiverAnswer? expected) =>
        Assert.True(expected == DeliveryErrors.Answer(failure), what);

    [Theory]
    [InlineData(200, ReceiverAnswer.Delivered)]
    [InlineData(202, ReceiverAnswer.Delivered)]
    [InlineData(408, ReceiverAnswer.Unavailable)]
    [InlineData(429, ReceiverAnswer.Unavailable)]
    [InlineData(500, ReceiverAnswer.Unavailable)]
    [InlineData(503, ReceiverAnswer.Unavailable)]
    [InlineData(400, ReceiverAnswer.Refused)]
    [InlineData(404, ReceiverAnswer.Refused)]
    [InlineData(401, ReceiverAnswer.Refused)]
    public void An_http_answer_says_whether_the_vendor_took_it_is_down_or_refused(int status, ReceiverAnswer expected) =>
        Assert.Equal(expected, DeliveryErrors.Http(status));
}
