using System.Diagnostics;
using k8s;
using k8s.Models;

namespace Collections.Deploy.Tests;

/// <summary>deploy/kubernetes rendered offline with <c>kubectl kustomize</c> and every object parsed strictly.</summary>
public sealed class KubernetesManifestTests
{
    private static readonly Lazy<string> Rendered = new(() => Kubectl("kustomize", Repository.Path("deploy", "kubernetes")));

    private static List<object> Objects() => KubernetesYaml.LoadAllFromString(Rendered.Value, strict: true);

    private static V1Deployment Deployment(string name) => Objects().OfType<V1Deployment>().Single(d => d.Metadata.Name == name);

    [KubectlFact]
    public void The_manifests_render_and_every_object_parses_strictly()
    {
        var kinds = Objects().Select(o => o.GetType().Name).Order().ToArray();
        Assert.Equal(["V1ConfigMap", "V1Deployment", "V1Deployment", "V1PodDisruptionBudget", "V1Service", "V1ServiceAccount"], kinds);
        Assert.All(Objects().Cast<IMetadata<V1ObjectMeta>>(), o => Assert.Equal("collections", o.Metadata.NamespaceProperty));
    }

    [KubectlFact]
    public void A_misspelt_field_fails_the_strict_parse()
    {
        var misspelt = Rendered.Value.Replace("  replicas: 3", "  replicaz: 3", StringComparison.Ordinal);
        Assert.NotEqual(Rendered.Value, misspelt);
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(misspelt, strict: true));
    }

    [KubectlFact]
    public void Silos_roll_one_at_a_time_with_three_replicas_and_a_budget_of_two()
    {
        var silo = Deployment("collections-silo");
        Assert.Equal(3, silo.Spec.Replicas);
        Assert.Equal("RollingUpdate", silo.Spec.Strategy.Type);
        Assert.Equal("0", silo.Spec.Strategy.RollingUpdate.MaxUnavailable.Value);
        Assert.Equal("1", silo.Spec.Strategy.RollingUpdate.MaxSurge.Value);
        var budget = Objects().OfType<V1PodDisruptionBudget>().Single();
        Assert.Equal("2", budget.Spec.MinAvailable.Value);
        Assert.Equal(silo.Spec.Selector.MatchLabels, budget.Spec.Selector.MatchLabels);
    }

    [KubectlFact]
    public void A_stopping_silo_gets_longer_than_the_hosts_shutdown_timeout()
    {
        var settings = Objects().OfType<V1ConfigMap>().Single();
        var shutdown = int.Parse(settings.Data["Collections__ShutdownTimeoutSeconds"], System.Globalization.CultureInfo.InvariantCulture);
        foreach (var name in new[] { "collections-silo", "collections-gateway" })
            Assert.True(Deployment(name).Spec.Template.Spec.TerminationGracePeriodSeconds > shutdown, $"{name}: grace period not above {shutdown} s");
    }

    [KubectlTheory]
    [InlineData("collections-silo")]
    [InlineData("collections-gateway")]
    public void Probes_liveness_never_calls_grains_and_pods_run_without_root_a_token_or_a_cpu_limit(string name)
    {
        var pod = Deployment(name).Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);
        Assert.Equal("/health/live", container.LivenessProbe.HttpGet.Path);
        Assert.Equal("/health/ready", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/health/ready", container.StartupProbe.HttpGet.Path);
        Assert.False(pod.AutomountServiceAccountToken);
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.False(container.Resources.Limits?.ContainsKey("cpu") ?? false);
        Assert.True(container.Resources.Limits?.ContainsKey("memory"));
        // Secrets come from the secret, never from the manifests.
        var connection = container.Env.Single(e => e.Name == "Collections__PostgresConnectionString");
        Assert.Null(connection.Value);
        Assert.Equal("collections-secrets", connection.ValueFrom.SecretKeyRef.Name);
        Assert.All(container.Env.Where(e => e.Name.Contains("Secret", StringComparison.Ordinal) || e.Name.Contains("Token", StringComparison.Ordinal)),
            e => Assert.NotNull(e.ValueFrom?.SecretKeyRef));
    }

    [KubectlFact]
    public void A_silo_takes_its_name_and_address_from_the_downward_api()
    {
        var env = Assert.Single(Deployment("collections-silo").Spec.Template.Spec.Containers).Env;
        Assert.Equal("metadata.name", env.Single(e => e.Name == "Collections__SiloName").ValueFrom.FieldRef.FieldPath);
        Assert.Equal("status.podIP", env.Single(e => e.Name == "Collections__AdvertisedAddress").ValueFrom.FieldRef.FieldPath);
        var ports = Assert.Single(Deployment("collections-silo").Spec.Template.Spec.Containers).Ports.Select(p => p.ContainerPort).Order();
        Assert.Equal([8080, 11111, 30000], ports);
    }

    [KubectlFact]
    public void The_gateway_is_its_own_deployment_behind_a_service()
    {
        var gateway = Deployment("collections-gateway");
        var service = Objects().OfType<V1Service>().Single();
        Assert.Equal(gateway.Spec.Selector.MatchLabels, service.Spec.Selector);
        Assert.Equal("http", service.Spec.Ports.Single().TargetPort.Value);
    }

    private static string Kubectl(params string[] args)
    {
        var start = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"kubectl {string.Join(' ', args)} exited {process.ExitCode}: {error}");
        return output.Result;
    }
}

internal static class Repository
{
    public static string Path(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Collections.sln"))) dir = dir.Parent;
        return System.IO.Path.Combine([dir!.FullName, .. parts]);
    }
}

/// <summary>A test that needs kubectl (for <c>kubectl kustomize</c>, offline); skipped, saying so, where it is not installed.</summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (!Tools.OnPath("kubectl")) Skip = "kubectl is not installed: deploy/kubernetes was not rendered (install kubectl 1.32+ to run this).";
    }
}

/// <inheritdoc cref="KubectlFactAttribute"/>
public sealed class KubectlTheoryAttribute : TheoryAttribute
{
    public KubectlTheoryAttribute()
    {
        if (!Tools.OnPath("kubectl")) Skip = "kubectl is not installed: deploy/kubernetes was not rendered (install kubectl 1.32+ to run this).";
    }
}

internal static class Tools
{
    public static bool OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(System.IO.Path.Combine(dir, name)));
}
