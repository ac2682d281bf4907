using System.Reflection;
using System.Reflection.Emit;
using System.Text.RegularExpressions;
using QkChat.Server.Configuration;
using Xunit;

namespace QkChat.Tests.Architecture;

/// <summary>
/// The folders of src/QkChat.Server depend on each other one way (issue 17 point 7): a cycle between two folders
/// means neither can be read, tested or moved without the other. The graph is built from the compiled assembly,
/// not the source, so a name that merely looks like a type cannot fake an edge: every type of the namespace
/// QkChat.Server.X (nested and compiler-generated types count for their outermost type) depends on QkChat.Server.Y
/// when its signatures, fields, locals or method bodies name a type of Y. Constants are inlined by the compiler
/// and leave no trace in the assembly, so the source adds its `using QkChat.Server.Y;` directives and
/// `QkChat.Server.Y.` qualified names. The root namespace is in scope everywhere without a directive, so a constant
/// there would escape both: the root holds Program alone (ExitCodes, read by Hosting, was such a hidden cycle).
/// </summary>
public sealed partial class ServerFolderCycleTests
{
    private const string Root = "QkChat.Server";

    [Fact]
    public void Server_folders_have_no_cycle()
    {
        var graph = FolderGraph.Build(typeof(ServerOptions).Assembly, Root);
        AddSourceEdges(graph, Path.Combine(RepoPaths.Root, "src", Root));
        Assert.True(graph.Count > 5, "the graph found too few folders to be believed: " + string.Join(", ", graph.Keys));
        var cycles = FolderGraph.Cycles(graph);
        Assert.True(cycles.Count == 0, "folder cycles in src/QkChat.Server:\n" + string.Join('\n', cycles.Select(c => FolderGraph.Describe(graph, c))));
    }

    [GeneratedRegex(@"^\s*using\s+QkChat\.Server\.(\w+)\s*;|\bQkChat\.Server\.([A-Z]\w*)\.", RegexOptions.Multiline)]
    private static partial Regex ServerNamespaceMention();

    /// <summary>Edges from each folder's source: its using directives and qualified names of other Server folders.</summary>
    private static void AddSourceEdges(Dictionary<string, Dictionary<string, SortedSet<string>>> graph, string projectDir)
    {
        foreach (string file in Directory.EnumerateFiles(projectDir, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(projectDir, file);
            if (relative.StartsWith("bin", StringComparison.Ordinal) || relative.StartsWith("obj", StringComparison.Ordinal)) continue;
            string from = Path.GetDirectoryName(relative) is { Length: > 0 } dir ? dir.Split(Path.DirectorySeparatorChar)[0] : "(root)";
            string code = string.Join('\n', File.ReadAllLines(file).Select(l => l.Split("//")[0]));
            foreach (Match m in ServerNamespaceMention().Matches(code))
            {
                string to = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
                if (to == from || !Directory.Exists(Path.Combine(projectDir, to))) continue;
                graph.TryAdd(from, []);
                graph.TryAdd(to, []);
                if (!graph[from].TryGetValue(to, out var why)) graph[from][to] = why = [];
                why.Add($"{Path.GetFileName(file)} names QkChat.Server.{to}");
            }
        }
    }

    [Fact]
    public void The_root_namespace_holds_only_Program()
    {
        var rootTypes = typeof(ServerOptions).Assembly.GetTypes()
            .Where(t => t.Namespace == Root && t.DeclaringType is null && !t.Name.StartsWith('<'))
            .Select(t => t.Name).Order().ToList();
        Assert.Equal(["Program"], rootTypes);
    }

    /// <summary>The check finds a cycle when there is one (a graph that cannot fail proves nothing).</summary>
    [Fact]
    public void A_cycle_is_found()
    {
        var graph = new Dictionary<string, Dictionary<string, SortedSet<string>>>
        {
            ["A"] = new() { ["B"] = ["A.X -> B.Y"] },
            ["B"] = new() { ["C"] = ["B.Y -> C.Z"] },
            ["C"] = new() { ["A"] = ["C.Z -> A.X"] },
            ["D"] = new() { ["A"] = ["D.W -> A.X"] },
        };
        var cycle = Assert.Single(FolderGraph.Cycles(graph));
        Assert.Equal(["A", "B", "C"], cycle.Order());
    }
}

/// <summary>Folder-level dependencies of one assembly, read from its types and IL.</summary>
internal static class FolderGraph
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>folder -> folder it uses -> examples ("Type -> Type") of why.</summary>
    public static Dictionary<string, Dictionary<string, SortedSet<string>>> Build(Assembly assembly, string root)
    {
        var graph = new Dictionary<string, Dictionary<string, SortedSet<string>>>();
        foreach (var type in assembly.GetTypes())
        {
            string? from = Folder(type, root);
            if (from is null) continue;
            graph.TryAdd(from, []);
            foreach (var used in UsedTypes(type))
            {
                string? to = Folder(used, root);
                if (to is null || to == from || used.Assembly != assembly) continue;
                if (!graph[from].TryGetValue(to, out var why)) graph[from][to] = why = [];
                why.Add($"{Outermost(type).Name} -> {Outermost(used).Name}");
            }
        }
        return graph;
    }

    /// <summary>The strongly connected components with more than one folder (Tarjan), each sorted.</summary>
    public static List<SortedSet<string>> Cycles(Dictionary<string, Dictionary<string, SortedSet<string>>> graph)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var cycles = new List<SortedSet<string>>();
        foreach (string node in graph.Keys.Order())
            if (!index.ContainsKey(node)) Visit(node);
        return cycles;

        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v);
            foreach (string w in graph.TryGetValue(v, out var edges) ? edges.Keys.Order() : Enumerable.Empty<string>())
            {
                if (!index.ContainsKey(w)) { Visit(w); low[v] = Math.Min(low[v], low[w]); }
                else if (stack.Contains(w)) low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v]) return;
            var component = new SortedSet<string>();
            string x;
            do { x = stack.Pop(); component.Add(x); } while (x != v);
            if (component.Count > 1) cycles.Add(component);
        }
    }

    public static string Describe(Dictionary<string, Dictionary<string, SortedSet<string>>> graph, SortedSet<string> cycle) =>
        string.Join('\n', cycle.SelectMany(a => graph[a].Where(e => cycle.Contains(e.Key))
            .Select(e => $"  {a} -> {e.Key}: {string.Join(", ", e.Value)}")));

    /// <summary>"Hosting" for QkChat.Server.Hosting, "(root)" for QkChat.Server itself, null outside.</summary>
    private static string? Folder(Type type, string root)
    {
        string? ns = Outermost(type).Namespace;
        if (ns == root) return "(root)";
        if (ns is null || !ns.StartsWith(root + ".", StringComparison.Ordinal)) return null;
        string rest = ns[(root.Length + 1)..];
        int dot = rest.IndexOf('.');
        return dot < 0 ? rest : rest[..dot];
    }

    private static Type Outermost(Type type)
    {
        while (type.DeclaringType is not null) type = type.DeclaringType;
        return type;
    }

    private static IEnumerable<Type> UsedTypes(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance |
                                 BindingFlags.Static | BindingFlags.DeclaredOnly;
        var found = new List<Type>();
        if (type.BaseType is not null) found.Add(type.BaseType);
        found.AddRange(type.GetInterfaces());
        found.AddRange(type.GetCustomAttributesData().Select(a => a.AttributeType));
        foreach (var f in type.GetFields(all)) found.Add(f.FieldType);
        foreach (var p in type.GetProperties(all)) found.Add(p.PropertyType);
        foreach (var e in type.GetEvents(all)) if (e.EventHandlerType is not null) found.Add(e.EventHandlerType);
        foreach (var m in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            if (m is MethodInfo mi) found.Add(mi.ReturnType);
            found.AddRange(m.GetParameters().Select(p => p.ParameterType));
            var body = m.GetMethodBody();
            if (body is null) continue;
            found.AddRange(body.LocalVariables.Select(l => l.LocalType));
            found.AddRange(BodyTypes(m, body.GetILAsByteArray() ?? []));
        }
        return found.SelectMany(Unwrap);
    }

    /// <summary>The element, generic arguments and definition of a constructed type, and the type itself.</summary>
    private static IEnumerable<Type> Unwrap(Type t)
    {
        if (t.HasElementType) { foreach (var e in Unwrap(t.GetElementType()!)) yield return e; yield break; }
        yield return t;
        if (t.IsGenericType && !t.IsGenericTypeDefinition)
            foreach (var a in t.GetGenericArguments().SelectMany(Unwrap)) yield return a;
    }

    /// <summary>The types that the method body's field, method and type tokens name.</summary>
    private static IEnumerable<Type> BodyTypes(MethodBase method, byte[] il)
    {
        var module = method.Module;
        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var op = OpCodesByValue[value];
            int size = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (op.OperandType is OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineType or OperandType.InlineTok)
            {
                MemberInfo? member = null;
                try { member = module.ResolveMember(BitConverter.ToInt32(il, i), typeArgs, methodArgs); }
                catch (ArgumentException) { } // a token of a generic context the resolver cannot rebuild
                switch (member)
                {
                    case Type t: yield return t; break;
                    case FieldInfo f: if (f.DeclaringType is { } holder) yield return holder; yield return f.FieldType; break;
                    case MethodBase m:
                        if (m.DeclaringType is { } owner) yield return owner;
                        if (m is MethodInfo mi) { yield return mi.ReturnType; foreach (var g in mi.GetGenericArguments()) yield return g; }
                        foreach (var p in m.GetParameters()) yield return p.ParameterType;
                        break;
                }
            }
            i += size;
        }
    }
}
