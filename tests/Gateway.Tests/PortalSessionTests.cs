using System.Reflection;
using Collections.Domain.Payments;
using Collections.Gateway.Portal;
using Collections.Grains;
using Collections.Outreach;
using Collections.Persistence;
using Collections.TestSupport;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Collections.Gateway.Tests;

public sealed class PortalSessionTests
{
    [Fact]
    public async Task A_session_whose_sign_out_the_engine_cannot_check_opens_nothing()
    {
        var database = await TestDatabases.NewSqliteAsync();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 15, 0, 0, TimeSpan.Zero));
        var links = new SignedLinks(database, clock, Convert.ToBase64String(new byte[32]));
        var portal = DispatchProxy.Create<IPatientPortalGrain, PortalGrainStub>();
        var answers = (PortalGrainStub)(object)portal;
        var session = new PortalSession(links, new PortalAccessRules(), clock, Microsoft.Extensions.Options.Options.Create(new OutreachOptions()),
            GrainFactoryStub.For(portal), NullLogger<PortalSession>.Instance);
        var signIn = new DefaultHttpContext();
        await session.StartAsync(signIn, "G-portal-1");
        var cookie = signIn.Response.Headers.SetCookie.ToString().Split(';')[0];

        // The engine answers: the session is open.
        answers.Ended = () => Task.FromResult(false);
        Assert.Equal("G-portal-1", await session.GuarantorAsync(WithCookie(cookie)));

        // A call that fails at once (a silo leaving) is asked again.
        var calls = 0;
        answers.Ended = () => ++calls == 1 ? throw new InvalidOperationException("silo leaving") : Task.FromResult(false);
        Assert.Equal("G-portal-1", await session.GuarantorAsync(WithCookie(cookie)));

        // The engine cannot say whether it was signed out (its database down, a timeout): not opened.
        answers.Ended = () => throw new TimeoutException("no answer");
        Assert.Null(await session.GuarantorAsync(WithCookie(cookie)));
        answers.Ended = () => throw new InvalidOperationException("database down");
        Assert.Null(await session.GuarantorAsync(WithCookie(cookie)));
    }

    private static DefaultHttpContext WithCookie(string cookie)
    {
        var http = new DefaultHttpContext();
        http.Request.Headers.Cookie = cookie;
        return http;
    }

    /// <summary>The portal grain's sign-out check, answering as the test says.</summary>
    public class PortalGrainStub : DispatchProxy
    {
        public Func<Task<bool>> Ended { get; set; } = () => Task.FromResult(false);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.Name == nameof(IPatientPortalGrain.SessionEnded) ? Ended() : throw new NotSupportedException(targetMethod?.Name);
    }

    /// <summary>A grain factory that gives out the one portal grain.</summary>
    public class GrainFactoryStub : DispatchProxy
    {
        private object _portal = null!;

        public static IGrainFactory For(IPatientPortalGrain portal)
        {
            var factory = Create<IGrainFactory, GrainFactoryStub>();
            ((GrainFactoryStub)(object)factory)._portal = portal;
            return factory;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.ReturnType == typeof(IPatientPortalGrain) ? _portal : throw new NotSupportedException(targetMethod?.Name);
    }
}
